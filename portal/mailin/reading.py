"""Reading an incoming message: is it from a machine (auto-reply, bounce, list, our own
mail), what did the person write above the quoted history, which attachments are photos."""

from __future__ import annotations

import html as html_lib
import re
from email.message import Message
from email.utils import getaddresses

AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@",
                               re.IGNORECASE)
IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/heic", "image/heif"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif")


def automatic(message: Message, sender: str, own_addresses: set[str]) -> str | None:
    """Why this message is not a person writing to us (it is then ignored), or None.

    RFC 3834 ``Auto-Submitted`` (anything but "no"), ``Precedence: bulk/junk/list``, the
    vendor auto-reply headers, delivery reports (``multipart/report``, an empty return
    path, the mailer daemon), mailing lists, and mail from our own addresses (a loop).
    """
    header = lambda name: (message.get(name) or "").strip().lower()  # noqa: E731
    if header("auto-submitted") not in ("", "no"):
        return "auto-submitted"
    if header("precedence") in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    if any(message.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return "auto-reply"
    if message.get_content_type() == "multipart/report" or header("return-path") == "<>":
        return "bounce"
    if not sender or AUTOMATIC_SENDERS.match(sender):
        return "bounce"
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "list"
    if sender.lower() in own_addresses or _base(sender) in own_addresses:
        return "own address"
    return None


def _base(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def recipients(message: Message) -> str:
    """Every recipient header's text, where a plus-address token may be."""
    fields = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        fields.extend(message.get_all(name) or ())
    return " ".join(address for _name, address in getaddresses(fields))


def references(message: Message) -> str:
    return " ".join((message.get(h) or "") for h in ("In-Reply-To", "References"))


# Where the quoted history starts: "On … wrote:", "在 … 写道：", Outlook's header block, the
# "Original Message" rulers of several clients, and a quoted "From:"/"发件人:" line.
_CUT = [re.compile(p, re.IGNORECASE) for p in (
    r"^\s*On\b.{0,200}\bwrote:\s*$",
    r"^\s*在.{0,200}写道[:：]\s*$",
    r"^\s*-{2,}\s*(Original Message|原始邮件|回复的原邮件)\s*-{2,}\s*$",
    r"^\s*(From|发件人)\s*[:：].+$",
    r"^\s*_{10,}\s*$",
)]


def strip_quoted(text: str) -> str:
    """The new text of a reply: everything above the quoted history, without "> " lines or a
    signature after "-- "."""
    kept: list[str] = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if any(p.match(line) for p in _CUT) or line.rstrip() == "--":
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup or "")
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "", markup)  # quoted history
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", markup)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", markup))


def is_image(content_type: str, filename: str) -> bool:
    return (content_type or "").lower() in IMAGE_TYPES or \
        (filename or "").lower().endswith(IMAGE_SUFFIXES)
