"""Reading a wearable's heart-rate export file into samples.

Three export formats are read, each streamed so that memory stays flat whatever
the file's size (a 1 GB Apple Health export is read a chunk at a time):

- Apple Health ``export.xml``, or Apple's ``export.zip`` holding it
  (:mod:`~reconnect.domain.heart.exports.apple_health`);
- the heart-rate CSV files of a Fitbit account in Google Takeout, and a plain
  ``timestamp,bpm`` CSV (:mod:`~reconnect.domain.heart.exports.csv_files`).

:func:`~reconnect.domain.heart.exports.importing.read_heart_rate` detects the format
(:mod:`~reconnect.domain.heart.exports.formats`), hands the file to that format's
reader and checks every reading it yields, counting what it leaves out in an
:class:`~reconnect.domain.heart.exports.report.ImportReport`. Every reader follows
:mod:`~reconnect.domain.heart.exports.reading`: it yields a
:data:`~reconnect.domain.heart.exports.reading.Reading` per row (``None`` for a row it
could not read) and raises ``BrokenFile`` where the file stops being readable.

A new format needs its own reader module here, a member of ``Format``, a test in
``detect_format`` and an entry in ``importing``'s table of readers.
"""
