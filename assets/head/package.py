#!/usr/bin/env python3
"""Writes a critic judge package from the trained run in this folder (format v1):

    package/judge.json        the manifest: kind, labels, scale, template, pooling, base model
    package/backbone.gguf     the backbone as the causal LM it wraps, LoRA merged (llama.cpp's converter)
    package/head.safetensors  score.weight [n_labels, hidden] (F32), score.bias when the head has one

llama.cpp's convert_hf_to_gguf.py does not convert *ForSequenceClassification models (Llama, Qwen2,
Phi-3), so the LoRA is merged, the inner model is saved as the matching *ForCausalLM (the base's own
lm_head) and converted, and the head is kept apart. Run by launch.sh after training, or by hand:

    python package.py --config config.yaml --llama-cpp <llama.cpp checkout> [--outtype q8_0]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import yaml

HEAD_NAMES = ("score", "classifier")


def flatten(values):
    if isinstance(values, (list, tuple)):
        for value in values:
            yield from flatten(value)
    else:
        yield float(values)


def tensor_entry(tensor):
    """(shape, little-endian F32 bytes) of a torch tensor, through tolist() so nothing but torch is needed."""
    values = tensor.detach().float().cpu().tolist()
    shape = list(tensor.shape)
    flat = list(flatten(values))
    expected = 1
    for n in shape:
        expected *= n
    if len(flat) != expected:
        raise ValueError(f"tensor of shape {shape} gave {len(flat)} values")
    return shape, struct.pack(f"<{len(flat)}f", *flat)


def write_safetensors(path, tensors):
    """safetensors layout: u64 LE header size, JSON header (dtype, shape, data_offsets), raw data.
    The header is padded with spaces to a multiple of 8, as the reference writer does."""
    header, data, offset = {}, [], 0
    for name, (shape, raw) in tensors.items():
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    write_whole(path, struct.pack("<Q", len(text)) + text + b"".join(data))


def write_whole(path, payload):
    """Writes to a temporary name, fsyncs, checks the size and renames: the file is whole or absent."""
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        written = f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    if written != len(payload) or os.path.getsize(tmp) != len(payload):
        raise OSError(f"{tmp}: wrote {written} of {len(payload)} bytes")
    os.replace(tmp, path)


def find_head(model):
    for name in HEAD_NAMES:
        module = getattr(model, name, None)
        if module is not None and hasattr(module, "weight"):
            return name, module
    raise SystemExit(f"package.py: no score head ({' or '.join(HEAD_NAMES)}) on {type(model).__name__}")


def head_tensors(model, kind, n_labels):
    name, module = find_head(model)
    tensors = {"score.weight": tensor_entry(module.weight)}
    if tensors["score.weight"][0][0] != n_labels:
        raise SystemExit(f"package.py: {name}.weight has {tensors['score.weight'][0][0]} rows, the {kind} head needs {n_labels}")
    if getattr(module, "bias", None) is not None:
        tensors["score.bias"] = tensor_entry(module.bias)
    return tensors


def judge_manifest(cfg, run_dir):
    kind, head = cfg["kind"], cfg["head"]
    manifest = {"format": "critic-judge-package", "version": 1, "kind": kind}
    if kind == "classify":
        manifest["labels"] = head["labels"]
        manifest["scale"] = {"min": min(head["labels"]), "max": max(head["labels"])}
    else:
        manifest["scale"] = head["scale"]
    manifest["template"] = head["template"]
    options = {k: v for k, v in (head.get("template_options") or {}).items() if k != "augment_drop"}
    options["chat_template"] = cfg["model"].get("chat_template", True)
    manifest["template_options"] = options
    manifest.update({
        "pooling": "last",
        "backbone": "backbone.gguf",
        "head": "head.safetensors",
        "base_model": cfg["model"]["model_name_or_path"],
        "source_run": run_dir,
        "created_by": f"critic train {kind}",
    })
    return manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--llama-cpp", default=os.environ.get("LLAMA_CPP", "llama.cpp"), help="a llama.cpp checkout (convert_hf_to_gguf.py)")
    parser.add_argument("--out", help="package folder (default: <run>/package)")
    parser.add_argument("--outtype", help="GGUF type of the backbone: f32, f16, bf16, q8_0 (default: config.yaml package.outtype)")
    cli = parser.parse_args()
    run_dir = os.path.dirname(os.path.abspath(cli.config))
    with open(cli.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    converter = os.path.join(cli.llama_cpp, "convert_hf_to_gguf.py")
    if not os.path.isfile(converter):
        sys.exit(f"package.py: no {converter}; clone llama.cpp (git clone https://github.com/ggml-org/llama.cpp, "
                 "pip install -r llama.cpp/requirements.txt) and pass --llama-cpp or set LLAMA_CPP")
    out = os.path.abspath(cli.out or os.path.join(run_dir, "package"))
    outtype = cli.outtype or (cfg.get("package") or {}).get("outtype", "q8_0")
    trained = os.path.join(run_dir, (cfg.get("training") or {}).get("output_dir") or "output")
    kind = cfg["kind"]
    n_labels = len(cfg["head"]["labels"]) if kind == "classify" else 1

    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    import transformers

    base = cfg["model"]["model_name_or_path"]
    load = {"trust_remote_code": cfg["model"].get("trust_remote_code", False)}
    # transformers 5 names it dtype; 4.x torch_dtype.
    load["dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"] = getattr(torch, cfg["model"].get("dtype") or "float32")
    if cfg.get("lora"):
        from peft import PeftModel

        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=n_labels, **load)
        # merge_and_unload also puts the fully trained score head (modules_to_save) in place.
        model = PeftModel.from_pretrained(model, trained).merge_and_unload()
    else:
        model = AutoModelForSequenceClassification.from_pretrained(trained, **load)
    tensors = head_tensors(model, kind, n_labels)

    causal = AutoModelForCausalLM.from_pretrained(base, **load)
    backbone = getattr(model, model.base_model_prefix)
    getattr(causal, causal.base_model_prefix).load_state_dict(backbone.state_dict())
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as hf_dir:
        causal.save_pretrained(hf_dir)
        AutoTokenizer.from_pretrained(trained if os.path.isfile(os.path.join(trained, "tokenizer_config.json")) else base, trust_remote_code=load["trust_remote_code"]).save_pretrained(hf_dir)
        partial = os.path.join(out, "backbone.gguf.partial")
        subprocess.run([sys.executable, converter, hf_dir, "--outfile", partial, "--outtype", outtype], check=True)
        os.replace(partial, os.path.join(out, "backbone.gguf"))
    write_safetensors(os.path.join(out, "head.safetensors"), tensors)
    text = json.dumps(judge_manifest(cfg, run_dir), indent=2) + "\n"
    write_whole(os.path.join(out, "judge.json"), text.encode("utf-8"))
    print(f"critic: judge package written to {out}", flush=True)


if __name__ == "__main__":
    main()
