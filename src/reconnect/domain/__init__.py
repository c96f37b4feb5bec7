"""The product's rules: pure, typed, with no web or database imports.

Everything a clinician may want to read or tune lives here or in the data files
beside it (the practice catalogue, the pacing policy, the safety screen).
"""
