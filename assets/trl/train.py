#!/usr/bin/env python3
"""Trains a model with TRL from the config.yaml beside this file.

Written by `critic train`. Change config.yaml (or re-run `critic train ... --set key=value`),
not this file. Run it through launch.sh:

    accelerate launch --config_file accelerate.yaml train.py --config config.yaml

config.yaml has four parts: `trainer` (sft, dpo, kto, reward or grpo), `data` (the export's
JSONL or Parquet files, loaded with datasets.load_dataset), `model` (fields of trl.ModelConfig)
and `training` (fields of the trainer's config dataclass, e.g. trl.SFTConfig).
"""
import argparse
import dataclasses
import importlib
import inspect
import json
import os
import sys

import yaml

CLASSES = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
    "kto": ("KTOConfig", "KTOTrainer"),
    "reward": ("RewardConfig", "RewardTrainer"),
    "grpo": ("GRPOConfig", "GRPOTrainer"),
}


def trl_classes(trainer):
    import trl

    config_name, trainer_name = CLASSES[trainer]
    try:
        return getattr(trl, config_name), getattr(trl, trainer_name)
    except AttributeError:
        # Trainers that moved to trl.experimental (KTO in TRL 1.x).
        module = importlib.import_module(f"trl.experimental.{trainer}")
        return getattr(module, config_name), getattr(module, trainer_name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    cli = parser.parse_args()
    here = os.path.dirname(os.path.abspath(cli.config))
    with open(cli.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    trainer = cfg["trainer"]

    import torch
    from datasets import load_dataset
    from trl import ModelConfig, get_peft_config, get_quantization_config

    config_class, trainer_class = trl_classes(trainer)

    model_cfg = dict(cfg.get("model") or {})
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    if "dtype" in model_cfg and "dtype" not in model_fields:  # TRL before 0.22 called it torch_dtype
        model_cfg["torch_dtype"] = model_cfg.pop("dtype")
    model_args = ModelConfig(**model_cfg)

    training = dict(cfg.get("training") or {})
    training.setdefault("output_dir", os.path.join(here, "output"))
    training_args = config_class(**training)

    data = cfg["data"]
    files = {"train": data["train"]}
    if data.get("test"):
        files["test"] = data["test"]
    kind = "parquet" if files["train"].endswith(".parquet") else "json"
    dataset = load_dataset(kind, data_files=files)

    dtype_name = getattr(model_args, "dtype", None) or getattr(model_args, "torch_dtype", None)
    dtype = dtype_name if dtype_name in (None, "auto") else getattr(torch, dtype_name)
    # TRL 1.7 moved trust_remote_code from ModelConfig to the trainer configs.
    remote_code_from = training_args if hasattr(training_args, "trust_remote_code") else model_args
    model_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=getattr(remote_code_from, "trust_remote_code", False),
        attn_implementation=model_args.attn_implementation,
        dtype=dtype,
    )
    # Values the user set with --set model_init_kwargs=... win over the ones derived here.
    user_kwargs = getattr(training_args, "model_init_kwargs", None) or {}
    model_kwargs.update(json.loads(user_kwargs) if isinstance(user_kwargs, str) else dict(user_kwargs))
    quantization_config = get_quantization_config(model_args)
    trainer_takes_quantization = "quantization_config" in inspect.signature(trainer_class.__init__).parameters
    if quantization_config is not None and not trainer_takes_quantization:
        # TRL before 1.8: the quantised model is placed by get_kbit_device_map (removed in 1.8).
        from trl import get_kbit_device_map

        model_kwargs.setdefault("device_map", get_kbit_device_map())
        model_kwargs.setdefault("quantization_config", quantization_config)
    training_args.model_init_kwargs = model_kwargs

    kwargs = dict(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset["train"],
        eval_dataset=dataset["test"] if "test" in dataset else None,
        peft_config=get_peft_config(model_args),
    )
    if quantization_config is not None and trainer_takes_quantization:
        kwargs["quantization_config"] = quantization_config
    if trainer == "grpo":
        sys.path.insert(0, here)
        from reward_fn import reward_fn

        kwargs["reward_funcs"] = [reward_fn]

    run = trainer_class(**kwargs)
    run.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    run.save_model(training_args.output_dir)
    if run.accelerator.is_main_process:
        print(f"critic: model saved to {training_args.output_dir}", flush=True)


if __name__ == "__main__":
    main()
