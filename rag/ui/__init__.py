"""The web chat (Gradio): `rag serve`, `python ui.py`.

app.py builds the page and its handlers and serves it; render.py turns answers into HTML (also the notebook view of
`Answer` and `Passage`); inputs.py checks what the user types and uploads; access.py decides which requests may
reach the app and which may change the corpus. Only app.py imports Gradio.
"""
