"""The question layer, between the language layer and the stages that answer: what a question asks.

analyze.py: the asked-for kind and unit, key terms and their translations, names and places (`analyze`,
`asked_for`); place_names.py: the places a text names; rewrite.py: a follow-up made whole from the conversation;
text_view.py: whether a text holds the question's terms and names (across scripts); kinds.py: whether a sentence
holds the asked-for kind of thing. Retrieval and composition both read these; nothing here imports them.
"""
