#!/usr/bin/env python3
"""
Produces the golden fixtures the protocol tests compare byte for byte.

Run from the repository root:   python3 core/src/protocol/__fixtures__/make-goldens.py
Needs: Python >= 3.11 with pydantic v2 (made with Python 3.11.7, pydantic 2.13.4).

The pydantic models below copy the field declarations of ComputeHorde's own models
(compute_horde/receipts/schemas.py, compute_horde_core/signature.py, volume/_models.py,
output_upload/_models.py, streaming.py at ComputeHorde 32fa9d14) so that `model_dump(mode="json")`
and `model_dump_json()` behave exactly as they do there. Executor classes are plain `str` here
because horde accepts classes that ComputeHorde's enum does not know; a StrEnum member dumps as its
value, so the bytes are the same. Blobs are made with the very calls ComputeHorde makes:
    receipts:  json.dumps(payload.model_dump(mode="json"), sort_keys=True)
    auth:      f"{validator_hotkey}:{miner_hotkey}:{timestamp}"
    SDK:       blake2b(timestamp_ns.to_bytes(8, "big") + json.dumps(payload, sort_keys=True).encode())
               where payload is SignedFields.model_dump_json() (a str, so it is JSON-encoded again).
"""
import base64
import datetime
import hashlib
import json
import pathlib
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

HERE = pathlib.Path(__file__).parent
UTC = datetime.UTC

VALIDATOR = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"  # //Alice
MINER = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"  # //Bob


# --- receipts (compute_horde/receipts/schemas.py) ---------------------------------------------
class BaseReceiptPayload(BaseModel):
    job_uuid: str
    miner_hotkey: str
    validator_hotkey: str
    timestamp: datetime.datetime

    def blob_for_signing(self):
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


class JobStartedReceiptPayload(BaseReceiptPayload):
    receipt_type: Literal["JobStartedReceipt"] = "JobStartedReceipt"
    executor_class: str
    is_organic: bool
    ttl: int


class JobAcceptedReceiptPayload(BaseReceiptPayload):
    receipt_type: Literal["JobAcceptedReceipt"] = "JobAcceptedReceipt"
    time_accepted: datetime.datetime
    ttl: int


class JobFinishedReceiptPayload(BaseReceiptPayload):
    receipt_type: Literal["JobFinishedReceipt"] = "JobFinishedReceipt"
    time_started: datetime.datetime
    time_took_us: int
    score_str: str
    block_numbers: list[int] = Field(default_factory=list)


RECEIPT_MODELS = {
    "JobStartedReceipt": JobStartedReceiptPayload,
    "JobAcceptedReceipt": JobAcceptedReceiptPayload,
    "JobFinishedReceipt": JobFinishedReceiptPayload,
}


def receipt_cases():
    base = {"job_uuid": "7b5a8c4e-1f0e-4a5b-9a53-0c4b1b0b2f61", "miner_hotkey": MINER, "validator_hotkey": VALIDATOR}
    wire_inputs = [
        ("started, microseconds", {**base, "receipt_type": "JobStartedReceipt", "timestamp": "2025-01-02T03:04:05.123456Z",
                                    "executor_class": "always_on.llm.a6000", "is_organic": True, "ttl": 7}),
        ("started, zero microseconds are omitted", {**base, "receipt_type": "JobStartedReceipt", "timestamp": "2025-01-02T03:04:05.000000Z",
                                                     "executor_class": "spin_up-4min.gpu-24gb", "is_organic": False, "ttl": 300}),
        ("started, +00:00 offset becomes Z", {**base, "receipt_type": "JobStartedReceipt", "timestamp": "2025-06-30T23:59:59.5+00:00",
                                               "executor_class": "always_on.test", "is_organic": True, "ttl": 0}),
        ("started, non-ASCII and escapes in strings", {**base, "job_uuid": "zażółć \"gęślą\" \\ jaźń \u2603 \U0001F600 tab\t nl\n del\x7f",
                                                        "receipt_type": "JobStartedReceipt", "timestamp": "2025-01-02T03:04:05.1Z",
                                                        "executor_class": "always_on.cpu.8c.16gb", "is_organic": True, "ttl": 7}),
        ("accepted", {**base, "receipt_type": "JobAcceptedReceipt", "timestamp": "2025-01-02T03:04:05.123456Z",
                      "time_accepted": "2025-01-02T03:04:06.000001Z", "ttl": 345}),
        ("accepted, non-UTC offset is kept", {**base, "receipt_type": "JobAcceptedReceipt", "timestamp": "2025-01-02T05:04:05.123+02:00",
                                               "time_accepted": "2025-01-02T03:04:06Z", "ttl": 1}),
        ("finished", {**base, "receipt_type": "JobFinishedReceipt", "timestamp": "2025-01-02T03:04:05.123456Z",
                      "time_started": "2025-01-02T03:03:05.654321Z", "time_took_us": 59469135, "score_str": "59.469135",
                      "block_numbers": [5000001, 5000002, 4999990]}),
        ("finished, failure with no blocks", {**base, "receipt_type": "JobFinishedReceipt", "timestamp": "2025-01-02T03:04:05Z",
                                               "time_started": "2025-01-02T03:04:00Z", "time_took_us": 0, "score_str": "0.000000",
                                               "block_numbers": []}),
        ("finished, block_numbers missing defaults to []", {**base, "receipt_type": "JobFinishedReceipt", "timestamp": "2025-01-02T03:04:05.999999Z",
                                                             "time_started": "2025-01-02T03:04:00.000100Z", "time_took_us": 5999899,
                                                             "score_str": "1.500000"}),
        ("finished, extra fields are dropped", {**base, "receipt_type": "JobFinishedReceipt", "timestamp": "2025-01-02T03:04:05.5Z",
                                                 "time_started": "2025-01-02T03:04:00.25Z", "time_took_us": 5250000, "score_str": "5.250000",
                                                 "block_numbers": [1], "unexpected": {"nested": [1, 2]}}),
    ]
    out = []
    for name, payload in wire_inputs:
        model = RECEIPT_MODELS[payload["receipt_type"]].model_validate(payload)
        out.append({"name": name, "payload": payload, "blob": model.blob_for_signing()})
    return out


# --- datetimes as pydantic serialises them ------------------------------------------------------
class _Dt(BaseModel):
    t: datetime.datetime


def datetime_cases():
    inputs = [
        "2025-01-02T03:04:05.123456Z", "2025-01-02T03:04:05Z", "2025-01-02T03:04:05.000000Z", "2025-01-02T03:04:05.100Z",
        "2025-01-02T03:04:05.000001Z", "2025-01-02T03:04:05+00:00", "2025-01-02T03:04:05.5+02:00", "2025-01-02T03:04:05.5-07:30",
        "2025-01-02T03:04:05", "2025-01-02 03:04:05.25Z", "2025-01-02T03:04Z", "2025-01-02T03:04:05.1234567Z",
        "2025-01-02T03:04:05.123456-00:00", "2025-01-02T03:04:05.123456+0000", "2025-01-02T03:04:05.123456z",
        "1999-12-31T23:59:59.999999Z", "2024-02-29T12:00:00Z",
    ]
    out = [{"input": s, "output": _Dt(t=s).model_dump(mode="json")["t"]} for s in inputs]
    # From epoch microseconds (how horde makes its own timestamps).
    micros = [0, 1, 1735787045123456, 1735787045000000, 1735787045100000, 253402300799999999]
    for m in micros:
        dt = datetime.datetime(1970, 1, 1, tzinfo=UTC) + datetime.timedelta(microseconds=m)
        out.append({"epochMicros": str(m), "output": _Dt(t=dt).model_dump(mode="json")["t"]})
    return out


# --- plain json.dumps(sort_keys=True) -------------------------------------------------------------
def json_dumps_cases():
    values = [
        {"b": 1, "a": [1, 2, [3, [4, []]]], "c": {"z": None, "y": True, "x": False}},
        {"text": "zażółć gęślą jaźń", "snow": "\u2603", "emoji": "\U0001F600", "ctrl": "\x00\x01\x1f\b\f\n\r\t", "del": "\x7f", "quote": "\"'\\/"},
        # Integer-valued floats (1.0, 1e16) are left out: JavaScript numbers cannot tell them from ints.
        {"floats": [0.1, -2.5, 1e-05, 0.0001, 0.00012, 1.5e-07, 1234567890123456.7, 3.141592653589793, 2.5e-308, 5e-324, 123.456, 1e-4, 99999999999999.99]},
        {"ints": [0, -1, 42, 9007199254740991, -9007199254740991, 1000000]},
        {"\uffff": 1, "\U0001F600": 2, "a": 3, "B": 4, "\u00e9": 5, "10": 6, "9": 7, "": 8},
        [],
        {},
        "just a string with \u00fc",
        None,
        True,
        [None, [], {}, [{}], {"k": []}],
        {"nested": {"deeper": {"deepest": ["x", 1, 0.5, None, False]}}},
    ]
    return [{"input": json.dumps(v), "output": json.dumps(v, sort_keys=True)} for v in values]


# --- SDK / facilitator request signatures (compute_horde_core/signature.py) ---------------------
class StreamingDetails(BaseModel):
    public_key: str
    executor_ip: str | None = None


class SignedFields(BaseModel):
    executor_class: str
    docker_image: str
    args: list[str]
    env: dict[str, str]
    use_gpu: bool
    artifacts_dir: str
    on_trusted_miner: bool
    download_time_limit: int
    execution_time_limit: int
    upload_time_limit: int
    streaming_start_time_limit: int
    streaming_details: StreamingDetails | None = None
    volumes: list[JsonValue]
    uploads: list[JsonValue]

    @staticmethod
    def from_facilitator_sdk_json(data):  # verbatim logic of the original
        return SignedFields(
            executor_class=str(data.get("executor_class")),
            docker_image=str(data.get("docker_image", "")),
            args=data.get("args", []),
            env=data.get("env", {}),
            use_gpu=data.get("use_gpu", False),
            volumes=data.get("volumes", []),
            uploads=data.get("uploads", []),
            artifacts_dir=data.get("artifacts_dir") or "",
            on_trusted_miner=data.get("on_trusted_miner", False),
            download_time_limit=data.get("download_time_limit", 0),
            execution_time_limit=data.get("execution_time_limit", 0),
            upload_time_limit=data.get("upload_time_limit", 0),
            streaming_start_time_limit=data.get("streaming_start_time_limit", 0),
            streaming_details=StreamingDetails.model_validate(data["streaming_details"]) if "streaming_details" in data else None,
        )


def hash_message_signature(payload, timestamp_ns: int) -> bytes:
    if not isinstance(payload, bytes):
        payload = json.dumps(payload, sort_keys=True).encode("utf-8")
    hasher = hashlib.blake2b()
    hasher.update(timestamp_ns.to_bytes(8, "big"))
    hasher.update(payload)
    return hasher.digest()


def sdk_cases():
    # Bodies as the SDK's create_job builds them (volumes/uploads are pydantic model_dump() of the
    # compute_horde_core models, so every field is present, in declaration order).
    job_bodies = [
        ("minimal job", {
            "target_validator_hotkey": VALIDATOR, "executor_class": "always_on.llm.a6000", "docker_image": "alpine:3.19",
            "job_namespace": None, "args": [], "env": {}, "use_gpu": True, "artifacts_dir": None, "on_trusted_miner": False,
            "download_time_limit": 5, "execution_time_limit": 15, "streaming_start_time_limit": 5, "upload_time_limit": 5,
        }),
        ("job with volumes, uploads, streaming and non-ASCII", {
            "target_validator_hotkey": VALIDATOR, "executor_class": "always_on.cpu.8c.16gb", "docker_image": "ghcr.io/x/ż:1",
            "job_namespace": "SN123.0", "args": ["python", "-c", "print(\"héllo\\n\")"], "env": {"B": "2", "A": "ü \u2603"},
            "use_gpu": True, "artifacts_dir": "/artifacts", "on_trusted_miner": True,
            "download_time_limit": 60, "execution_time_limit": 600, "streaming_start_time_limit": 30, "upload_time_limit": 120,
            "streaming_details": {"public_key": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
            "volumes": [
                {"volume_type": "inline", "contents": "UEsDBA==", "relative_path": "inline"},
                {"volume_type": "huggingface_volume", "repo_id": "org/model", "repo_type": None, "revision": "main",
                 "relative_path": "models", "allow_patterns": ["*.json", "*.safetensors"], "token": None},
                {"volume_type": "single_file", "url": "https://example.com/a?b=c&d=e", "relative_path": "data/a.txt"},
            ],
            "uploads": [
                {"output_upload_type": "single_file_post", "url": "https://s3.example.com/up", "form_fields": {"key": "v"},
                 "relative_path": "out.json", "signed_headers": None},
                {"output_upload_type": "single_file_put", "url": "https://s3.example.com/put", "relative_path": "out2.bin",
                 "signed_headers": {"x-amz-acl": "private"}},
            ],
        }),
    ]
    out = []
    timestamps = [1729622861880448856, 1]
    for (name, body), ts in zip(job_bodies, timestamps):
        signed = SignedFields.from_facilitator_sdk_json(body)
        payload = signed.model_dump_json()
        out.append({
            "name": name, "scope": "SignedFields", "timestamp_ns": str(ts), "body": body,
            "signed_fields_json": payload,
            "hashed_text": json.dumps(payload, sort_keys=True),
            "digest_hex": hash_message_signature(payload, ts).hex(),
        })
    cheat_body = {"job_uuid": "a1", "trusted_job_uuid": "b2", "details": {"reason": "różne wyniki", "score": 0.25, "n": 3, "ok": None}}
    ts = 1700000000123456789
    payload = json.dumps(cheat_body, sort_keys=True)  # what the SDK hands to Signer.sign (a str)
    out.append({
        "name": "cheat report (FullRequest)", "scope": "FullRequest", "timestamp_ns": str(ts), "body": cheat_body,
        "hashed_text": json.dumps(payload, sort_keys=True),
        "digest_hex": hash_message_signature(payload, ts).hex(),
        # ComputeHorde's validator hashes the dict (V0JobCheated.get_signed_payload), i.e. single encoding:
        "validator_dict_digest_hex": hash_message_signature(cheat_body, ts).hex(),
    })
    raw = b"\x00\x01raw bytes\xff"
    out.append({"name": "raw bytes payload", "scope": "FullRequest", "timestamp_ns": str(2**63 - 1),
                "bytes_b64": base64.b64encode(raw).decode(), "digest_hex": hash_message_signature(raw, 2**63 - 1).hex()})
    # ComputeHorde's own vector (compute_horde/tests/test_signature.py): a signature made by
    # bittensor in Python over sample_data, and the digest that test expects. Decoded from base85 here.
    out.append({
        "name": "ComputeHorde test_signature.py vector", "scope": "SignedFields", "timestamp_ns": "1718845323456788992",
        "body": {"b": 2, "array": [1, 2, 3], "dict": {"subdict:": {"null": None}}},
        "signatory": "5FUJCuGtQPonu8B9JKH4BwsKzEdtyBTpyvbBk2beNZ4iX8sk",
        "signature_b64": base64.b64encode(base64.b85decode(
            "1SaAcLt*GG`2RG*@xmapXZ14m*Y`@b1MP(hAfEnwXkO5Os<30drw{`X`15JFP4GWR96T7p>rUmYA#=8Z")).decode(),
        "digest_hex": base64.b85decode(
            "Dk7mtj^WM^#_n_!-C@$EHF*O@>;mdK%XS?515>IhxRvgxdT<nq$ImMmQ)jr-hpUSs#o+GQRX~t<q0-~1").hex(),
    })
    assert out[-1]["digest_hex"] == hash_message_signature(out[-1]["body"], 1718845323456788992).hex()
    return out


def auth_cases():
    return [{"validator_hotkey": VALIDATOR, "miner_hotkey": MINER, "timestamp": ts,
             "blob": f"{VALIDATOR}:{MINER}:{ts}"} for ts in (1735787045, 0, 4102444800)]


def write(name, data):
    (HERE / name).write_text(json.dumps(data, indent=2, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    write("receipt-blobs.json", receipt_cases())
    write("pydantic-datetimes.json", datetime_cases())
    write("json-dumps.json", json_dumps_cases())
    write("sdk-signatures.json", sdk_cases())
    write("auth-blobs.json", auth_cases())
    print("goldens written to", HERE)
