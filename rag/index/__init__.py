"""The index on disk and in memory: the one owner of its format.

- `generations`: an index directory's `gen-NNNNNN-<random>/` folders, the `CURRENT` pointer, staging, publishing and
  the writer lock (an interrupted or concurrent write leaves a readable index);
- `files`: what one generation holds (manifest, tables, stores, keyword postings) and how it is read back;
- `snapshot`: one consistent, searchable state of the tables, which searches read while an update builds the next.
"""
