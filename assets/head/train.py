#!/usr/bin/env python3
"""Trains a sequence-classification judge (a score head on a causal LM) from the config.yaml beside
this file, with transformers' Trainer and, when config.yaml has a `lora` section, a peft LoRA adapter
whose score head is trained in full (modules_to_save).

Written by `critic train classify|regress`. Change config.yaml, not this file. Run it through
launch.sh:

    accelerate launch --config_file accelerate.yaml train.py --config config.yaml

config.yaml: `kind` (classify or regress), `loss` (emd or ce for classify, mse for regress), `data`
(the export's JSONL files, rows {text, label}), `head` (labels, scale, template), `model` (base model
and how to load and prompt it), `lora` (fields of peft.LoraConfig), `training` (fields of
transformers.TrainingArguments), `early_stopping` (EarlyStoppingCallback's patience and threshold).
"""
import argparse
import dataclasses
import json
import os
import sys

import yaml


def field_names(cls):
    return {f.name for f in dataclasses.fields(cls) if f.init}


def check_fields(config_file, section, values, names, where):
    """Fails before the model loads when config.yaml names a field the installed package lacks."""
    import difflib

    unknown = [key for key in values if key not in names]
    if not unknown:
        return
    lines = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(names), n=2)
        lines.append(f"  {section}.{key}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
    sys.exit(f"{config_file}: not a field of the installed {where}:\n" + "\n".join(lines) +
             "\nThe run folder was written for the releases named in config.yaml; `critic train doctor` shows what is installed.")


def emd_loss(logits, labels, num_classes):
    """Squared earth mover's distance (Hou et al. 2016, arXiv:1611.05916) as PHUDGE trains with it
    (scripts/training_helpers.py CustomEMDLoss, squared=True, summed=False): the mean over the batch
    and the classes of (cumulative softmax - cumulative one-hot)^2."""
    import torch

    probs = torch.softmax(logits.float(), dim=-1)
    target = torch.nn.functional.one_hot(labels.long(), num_classes).float()
    diff = torch.cumsum(probs, dim=-1) - torch.cumsum(target, dim=-1)
    return (diff * diff).mean()


def head_loss(kind, loss, logits, labels, num_labels):
    import torch

    if loss == "emd":
        return emd_loss(logits.view(-1, num_labels), labels.view(-1), num_labels)
    if loss == "ce":
        return torch.nn.functional.cross_entropy(logits.view(-1, num_labels).float(), labels.view(-1).long())
    if loss == "mse":
        return torch.nn.functional.mse_loss(logits.view(-1).float(), labels.view(-1).float())
    raise ValueError(f"unknown loss {loss!r} for {kind}")


def metrics_fn(kind, head):
    import numpy as np

    low, high = head["scale"]["min"], head["scale"]["max"]

    def compute(prediction):
        logits, labels = prediction
        logits = np.asarray(logits[0] if isinstance(logits, tuple) else logits, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64).reshape(-1)
        if kind == "classify":
            values = np.asarray(head["labels"], dtype=np.float64)
            predicted, gold = values[logits.argmax(-1)], values[labels.astype(int)]
        else:
            # The judge package clips a regression output to the scale, as PHUDGE's EVAL.ipynb does.
            predicted, gold = np.clip(logits.reshape(-1), low, high), labels
        out = {"accuracy": float((np.rint(predicted) == np.rint(gold)).mean()), "mae": float(np.abs(predicted - gold).mean())}
        if predicted.std() > 0 and gold.std() > 0:
            out["pearson"] = float(np.corrcoef(predicted, gold)[0, 1])
        return out

    return compute


def transformers_major():
    import transformers

    return int(transformers.__version__.split(".")[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    cli = parser.parse_args()
    here = os.path.dirname(os.path.abspath(cli.config))
    with open(cli.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    kind, loss, head = cfg["kind"], cfg["loss"], cfg["head"]
    model_cfg = dict(cfg["model"])
    lora_cfg = dict(cfg.get("lora") or {})
    training = dict(cfg.get("training") or {})
    # Paths in config.yaml are relative to its folder, so a copied run folder still finds its data.
    training["output_dir"] = os.path.join(here, training.get("output_dir") or "output")

    import torch
    from datasets import load_dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                              EarlyStoppingCallback, Trainer, TrainingArguments)

    warmup = training.get("warmup_steps")
    if isinstance(warmup, float) and 0 < warmup < 1 and transformers_major() < 5:
        # transformers 5 reads a warmup_steps below 1 as a ratio; 4.x wants warmup_ratio for that.
        training["warmup_ratio"] = training.pop("warmup_steps")
    check_fields(cli.config, "training", training, field_names(TrainingArguments), "transformers.TrainingArguments")
    if lora_cfg:
        from peft import LoraConfig, get_peft_model

        check_fields(cli.config, "lora", lora_cfg, field_names(LoraConfig), "peft.LoraConfig")
    args = TrainingArguments(**training)

    name = model_cfg["model_name_or_path"]
    tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=model_cfg.get("trust_remote_code", False))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    max_length = model_cfg.get("max_length")
    chat_template = model_cfg.get("chat_template", True)

    def encode(batch):
        if chat_template:
            # As the judge package renders it at inference: the base model's chat template around
            # the judge prompt, ending where the assistant's answer would start.
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True) for t in batch["text"]]
            return tokenizer(texts, truncation=max_length is not None, max_length=max_length, add_special_tokens=False)
        return tokenizer(batch["text"], truncation=max_length is not None, max_length=max_length)

    files = {"train": os.path.normpath(os.path.join(here, cfg["data"]["train"]))}
    if cfg["data"].get("test"):
        files["test"] = os.path.normpath(os.path.join(here, cfg["data"]["test"]))
    dataset = load_dataset("json", data_files=files)
    dataset = dataset.map(encode, batched=True, remove_columns=["text"])

    num_labels = len(head["labels"]) if kind == "classify" else 1
    dtype_name = model_cfg.get("dtype")
    dtype = dtype_name if dtype_name in (None, "auto") else getattr(torch, dtype_name)
    load = dict(
        num_labels=num_labels,
        problem_type="single_label_classification" if kind == "classify" else "regression",
        trust_remote_code=model_cfg.get("trust_remote_code", False),
        attn_implementation=model_cfg.get("attn_implementation"),
    )
    load["dtype" if transformers_major() >= 5 else "torch_dtype"] = dtype
    if kind == "classify":
        load["id2label"] = {i: str(score) for i, score in enumerate(head["labels"])}
        load["label2id"] = {str(score): i for i, score in enumerate(head["labels"])}
    model = AutoModelForSequenceClassification.from_pretrained(name, **load)
    if model.config.pad_token_id is None:
        # The head reads the last token that is not padding: it must know the pad id.
        model.config.pad_token_id = tokenizer.pad_token_id
    model.config.use_cache = False
    if lora_cfg:
        model = get_peft_model(model, LoraConfig(**lora_cfg))
        model.print_trainable_parameters()

    class HeadTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            value = head_loss(kind, loss, outputs.logits, labels, num_labels)
            return (value, outputs) if return_outputs else value

    callbacks = []
    stopping = cfg.get("early_stopping")
    if stopping and "test" in dataset:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=stopping["patience"], early_stopping_threshold=stopping.get("threshold", 0.0)))

    trainer = HeadTrainer(
        model=model,
        args=args,
        train_dataset=dataset["train"],
        eval_dataset=dataset["test"] if "test" in dataset else None,
        data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
        compute_metrics=metrics_fn(kind, head) if "test" in dataset else None,
        callbacks=callbacks,
    )
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    if trainer.accelerator.is_main_process:
        with open(os.path.join(args.output_dir, "critic-head.json"), "w", encoding="utf-8") as f:
            json.dump({"kind": kind, "loss": loss, "head": head, "base_model": name, "lora": bool(lora_cfg)}, f, indent=1)
        print(f"critic: model saved to {args.output_dir}", flush=True)


if __name__ == "__main__":
    main()
