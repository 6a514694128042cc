"""Postmark inbound webhook payloads, in the format Postmark documents (and anymail parses)."""
import base64
import copy

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

POSTMARK_INBOUND = {
    "FromName": "Ana Example",
    "MessageStream": "inbound",
    "From": "ana@example.com",
    "FromFull": {"Email": "ana@example.com", "Name": "Ana Example", "MailboxHash": ""},
    "To": "\"Privacy\" <privacy@example.com>",
    "ToFull": [{"Email": "privacy@example.com", "Name": "Privacy", "MailboxHash": ""}],
    "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [],
    "OriginalRecipient": "privacy@example.com",
    "Subject": "Please delete my data",
    "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
    "ReplyTo": "",
    "MailboxHash": "",
    "Date": "Mon, 30 Nov 2026 09:15:00 +0000",
    "TextBody": "Hello, I want all my personal data deleted. Account 1234.",
    "HtmlBody": "<p>Hello, I want all my personal data deleted. Account 1234.</p>",
    "StrippedTextReply": "",
    "Tag": "",
    "Headers": [
        {"Name": "Return-Path", "Value": "<ana@example.com>"},
        {"Name": "X-Spam-Status", "Value": "No"},
        {"Name": "X-Spam-Score", "Value": "-0.1"},
        {"Name": "Message-ID", "Value": "<CAB1234@mail.example.com>"},
    ],
    "Attachments": [
        {"Name": "id-card.pdf", "Content": base64.b64encode(PDF).decode(), "ContentType": "application/pdf",
         "ContentLength": len(PDF)},
        {"Name": "notes.txt", "Content": base64.b64encode(b"just text").decode(), "ContentType": "text/plain",
         "ContentLength": 9},
    ],
}


def postmark(**over) -> dict:
    payload = copy.deepcopy(POSTMARK_INBOUND)
    payload.update(over)
    if "From" in over and "FromFull" not in over:
        payload["FromFull"] = {"Email": over["From"], "Name": payload["FromName"], "MailboxHash": ""}
    return payload
