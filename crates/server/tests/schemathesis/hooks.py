"""Schemathesis hooks for `tests/schemathesis.rs`: only what the OpenAPI document cannot say.
Each is listed with its reason in that test's `EXCLUSIONS`.

1. `POST /api/v1/cases:batch` takes NDJSON (`application/x-ndjson`), which schemathesis
   cannot serialize by itself. The document describes the body as the list of its lines
   (an array of cases); this puts each item on its own line, as `closeloop import` does.
2. `PUT /api/v1/{surveys,distributions,rules,accounts,users}/{id}`: a body's `id` must be the
   path's (a different one is 400 `id_mismatch`). JSON Schema cannot tie a body field to a
   path parameter, so a generated string id is replaced by the path's. Any other value (a
   negative case's wrong type) is left as generated.
3. `Idempotency-Key`: SPEC §5 answers a key seen in the last 24 hours with the first answer,
   whatever the body, so a generated key that repeats (schemathesis reuses short values)
   replays an earlier answer to a different request. A valid generated key is replaced by a
   fresh one; a malformed one (a negative case) is left as generated.
"""

import json
import re
import uuid
from urllib.parse import unquote

import schemathesis

CONFIG_OBJECT = re.compile(r"^/api/v1/(surveys|distributions|rules|accounts|users)/\{id\}$")
VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode()
    return json.dumps(value).encode()


@schemathesis.hook
def before_call(context, case, kwargs):
    # Here rather than when a case is generated: the stateful phase fills ids from earlier
    # answers after generation.
    operation = context.operation
    if operation is None:
        return
    path_id = (case.path_parameters or {}).get("id")
    if (
        operation.method.upper() == "PUT"
        and CONFIG_OBJECT.match(operation.path)
        and isinstance(case.body, dict)
        and isinstance(case.body.get("id"), str)
        and isinstance(path_id, str)
    ):
        # Path parameters are held as they go on the wire; the service reads them decoded.
        case.body["id"] = unquote(path_id)
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(headers[name])):
            headers[name] = uuid.uuid4().hex
