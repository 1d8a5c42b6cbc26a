"""Webhook payloads for the Messenger tests: the fixtures beside them (Meta's JSON as the
Messenger Platform sends it), with their times set to now and file URLs on the fake Graph."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from .conftest import sign

FIXTURES = Path(__file__).parent / "fixtures"
PSID = "6543210987654321"


def _now_stamps(value: Any, stamp: int) -> Any:
    if isinstance(value, dict):
        return {k: (stamp if k == "timestamp" else _now_stamps(v, stamp)) for k, v in value.items()}
    if isinstance(value, list):
        return [_now_stamps(v, stamp) for v in value]
    return value


def payload(name: str, *, graph_url: str = "") -> bytes:
    text = (FIXTURES / name).read_text().replace("{GRAPH}", graph_url)
    return json.dumps(_now_stamps(json.loads(text), int(time.time() * 1000))).encode()


def text_event(mid: str, text: str, *, psid: str = PSID) -> bytes:
    data = json.loads(payload("text_message.json"))
    item = data["entry"][0]["messaging"][0]
    item["sender"]["id"] = psid
    item["message"] = {"mid": mid, "text": text}
    return json.dumps(data).encode()


def post(url: str, body: bytes, *, signature: str | None = "sign") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(url, data=body, headers=headers, timeout=30)
