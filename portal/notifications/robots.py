"""Group-chat robots: WeCom, DingTalk and Feishu custom bots, in their documented formats.

- WeCom (企业微信 群机器人): POST the webhook URL (the key rides in it) with
  ``{"msgtype": "markdown", "markdown": {"content": ...}}``; success is ``errcode == 0``.
- DingTalk (钉钉 自定义机器人): with a signing secret, ``timestamp`` (ms) and
  ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)))`` are
  added to the URL query; body ``{"msgtype": "markdown", "markdown": {"title", "text"}}``;
  success is ``errcode == 0``.
- Feishu (飞书 自定义机器人): with a secret, ``timestamp`` (s) and
  ``sign = base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=b""))`` go in the JSON
  body beside ``{"msg_type": "text", "content": {"text": ...}}``; success is ``code == 0``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote_plus, urlsplit


class RobotError(RuntimeError):
    """The robot refused or could not be reached (the job retries)."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def build(channel: str, url: str, secret: str | None, subject: str, lines: list[str],
          now: float | None = None) -> tuple[str, dict]:
    """``(url, json_body)`` for one message on ``channel``."""
    now = time.time() if now is None else now
    if channel == "wecom":
        content = f"**{subject}**\n" + "\n".join(f"> {line}" for line in lines)
        return url, {"msgtype": "markdown", "markdown": {"content": content}}
    if channel == "dingtalk":
        body = {"msgtype": "markdown",
                "markdown": {"title": subject,
                             "text": f"#### {subject}\n" + "\n".join(f"- {x}" for x in lines)}}
        if secret:
            ts = int(now * 1000)
            url = f"{url}{'&' if urlsplit(url).query else '?'}timestamp={ts}" \
                  f"&sign={dingtalk_sign(secret, ts)}"
        return url, body
    if channel == "feishu":
        body: dict = {"msg_type": "text", "content": {"text": "\n".join([subject, *lines])}}
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return url, body
    raise RobotError(f"unknown robot channel {channel!r}")


def send(channel: str, url: str, secret: str | None, subject: str, lines: list[str],
         timeout: float = 10) -> dict:
    """POST the message; raises RobotError unless the platform says it was accepted."""
    target, body = build(channel, url, secret, subject, lines)
    request = urllib.request.Request(
        target, data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise RobotError(f"{channel}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RobotError(f"{channel}: {exc}") from exc
    try:
        answer = json.loads(raw or b"{}")
    except ValueError as exc:
        raise RobotError(f"{channel}: not JSON: {raw[:200]!r}") from exc
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, "0"):
        raise RobotError(f"{channel}: {code} {answer.get('errmsg') or answer.get('msg')}")
    return answer
