"""Reading a wearable's heart-rate export file into samples.

These export formats are read, streamed so that memory stays flat whatever
the file's size (a 1 GB Apple Health export is read a chunk at a time):

- Apple Health ``export.xml``, or Apple's ``export.zip`` holding it
  (:mod:`~reconnect.domain.heart.exports.apple_health`);
- CSV: the heart-rate files of a Fitbit account in Google Takeout, Fitabase's
  ``heartrate_seconds_merged.csv``, the CSV an Apple-Health converter app writes, and a
  plain ``timestamp,bpm`` CSV, each with commas or semicolons
  (:mod:`~reconnect.domain.heart.exports.csv_files`);
- JSON: Fitbit's own ``heart_rate-*.json``, FHIR heart-rate Observations and Open
  mHealth heart-rate data points (:mod:`~reconnect.domain.heart.exports.json_files`);
- Apple's ``export_cda.xml`` (:mod:`~reconnect.domain.heart.exports.apple_cda`) and a
  TCX activity (:mod:`~reconnect.domain.heart.exports.tcx`), streamed through
  :mod:`~reconnect.domain.heart.exports.xml_stream`;
- a FIT file (:mod:`~reconnect.domain.heart.exports.fit_files`), the one format read
  whole: Garmin's SDK needs all of it, so its size is capped.

:func:`~reconnect.domain.heart.exports.importing.read_heart_rate` detects the format
(:mod:`~reconnect.domain.heart.exports.formats`), hands the file to that format's
reader and checks every reading it yields, counting what it leaves out in an
:class:`~reconnect.domain.heart.exports.report.ImportReport`. Every reader follows
:mod:`~reconnect.domain.heart.exports.reading`: it yields a
:data:`~reconnect.domain.heart.exports.reading.Reading` per row (``None`` for a row it
could not read) and raises ``BrokenFile`` where the file stops being readable. A time
written without an offset is yielded naive; ``importing`` alone reads it in the
person's zone and counts it, so the report can say so. A reader may also yield a
:class:`~reconnect.domain.heart.samples.CalmReading` (Apple's daily resting heart rate,
or a sample marked as taken sitting still), which the import keeps apart for the calm
baseline.

A new format needs its own reader module here, a member of ``Format``, a test in
``detect_format`` and an entry in ``importing``'s table of readers.
"""
