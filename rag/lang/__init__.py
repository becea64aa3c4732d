"""The language layer, beneath every stage: what any stage needs to know about Chinese and English text.

text.py: scripts (the one Han test, Simplified/Traditional conversion, `fold`, `detect_language`), sentences and
paragraphs, the number patterns, Chinese numerals, the word lists of rag/data/words; words.py: jieba's dictionary,
memory-mapped (segmentation and tags); pinyin.py: readings and name spellings across scripts; dictionary.py:
CC-CEDICT, English <-> Chinese; question_translation.py: a question rebuilt in the language of a passage from the
dictionary translations it holds; places.py: China's administrative divisions. Nothing here imports a stage.
"""
