"""A TRL GRPO reward function that asks a critic judge for each completion's score.

Start the judge first (on this machine or another one the trainer can reach):

    critic serve --reward --model ./judge.gguf --template criticon --port 8080

GRPOTrainer calls reward_fn(prompts, completions, **kwargs) with one batch of generations;
this sends them in one POST to /v1/reward and returns one float per completion. Only the
standard library is used (urllib), so nothing needs installing beside TRL.

Settings (environment variables override the values written by `critic train grpo`):
  CRITIC_REWARD_URL      the endpoint, e.g. http://127.0.0.1:8080/v1/reward
  CRITIC_API_KEY         bearer key, when the server was started with one
  CRITIC_NULL_REWARD     reward for a completion the judge could not score: a number, or none (default: none)
  CRITIC_REWARD_NORMALIZE  1: map the judge's scale (e.g. 1-10) onto 0-1
  CRITIC_REWARD_TIMEOUT  seconds to wait for one batch (default 600)
"""
import json
import os
import urllib.error
import urllib.request

REWARD_URL = os.environ.get("CRITIC_REWARD_URL", "__CRITIC_REWARD_URL__")
# None (the default) leaves an unscored completion out: TRL turns None into NaN and skips it.
_NULL = os.environ.get("CRITIC_NULL_REWARD", "__CRITIC_NULL_REWARD__").strip()
NULL_REWARD = None if _NULL.lower() in ("", "none", "null") else float(_NULL)
NORMALIZE = os.environ.get("CRITIC_REWARD_NORMALIZE", "__CRITIC_NORMALIZE__") not in ("", "0", "false", "False")
TIMEOUT = float(os.environ.get("CRITIC_REWARD_TIMEOUT", "600"))


def _text(value):
    """Plain text of a prompt or completion; conversational ones are lists of {role, content}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("content", ""))
    if isinstance(value, list):
        users = [m for m in value if isinstance(m, dict) and m.get("role") == "user"]
        if users:  # a prompt: the judge grades the answer to the last user turn
            return str(users[-1].get("content", ""))
        return "".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in value)
    return str(value)


def score(prompts, completions, url=None, api_key=None, timeout=None):
    """The server's answer for one batch: {"rewards": [...], "errors": [...], "scale": {...}}."""
    body = json.dumps({"prompts": [_text(p) for p in prompts], "completions": [_text(c) for c in completions]}).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    key = api_key if api_key is not None else os.environ.get("CRITIC_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url or REWARD_URL, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout or TIMEOUT) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        raise RuntimeError(f"critic reward server answered {error.code}: {detail}") from None


def reward_fn(prompts, completions, **kwargs):
    answer = score(prompts, completions)
    rewards = answer["rewards"]
    scale = answer.get("scale") or {}
    low, high = scale.get("min"), scale.get("max")
    out = []
    for reward in rewards:
        if reward is None:
            out.append(NULL_REWARD)
        elif NORMALIZE and low is not None and high is not None and high > low:
            out.append((float(reward) - low) / (high - low))
        else:
            out.append(float(reward))
    return out


if __name__ == "__main__":
    # Manual check: python3 reward_fn.py "What is 2+2?" "4"
    import sys

    print(json.dumps(reward_fn([sys.argv[1]], [sys.argv[2]])))
