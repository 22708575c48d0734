"""The OpenAPI 3.1 document served at /api/schema; field schemas come from the contract."""
from __future__ import annotations

from rwestudy import __version__
from rwestudy.io.schema import TABLES
from rwestudy.server.forms import KEY_FIELDS

_JSON = "application/json"


def _field(col) -> dict:
    out = {"type": ["string", "null"], "description": f"{col.kind}"}
    if col.kind == "code":
        out["examples"] = list(col.codes)
    if col.lo is not None or col.hi is not None:
        out["description"] += f"; valid range {col.lo:g} to {col.hi:g}"
    return out


def _ok(description: str, schema: dict | None = None, media: str = _JSON) -> dict:
    body = {"description": description}
    if schema is not None:
        body["content"] = {media: {"schema": schema}}
    return body


def document() -> dict:
    fields = {c.name: _field(c) for c in TABLES["patients"].columns if c.name not in KEY_FIELDS}
    finding = {"type": "object", "properties": {k: {"type": ["string", "integer", "null"]} for k in
                                                ("severity", "rule", "table", "record_id", "field", "value",
                                                 "message")}}
    auth = [{"bearer": []}]
    lock_body = {"type": "object", "required": ["reason"],
                 "properties": {"reason": {"type": "string"}, "patient_id": {"type": "string"},
                                "cutoff": {"type": "string", "format": "date"}}}
    not_found = _ok("no such patient, or not one you may see (the two are not told apart)")
    return {
        "openapi": "3.1.0",
        "info": {"title": "rwestudy data capture", "version": __version__},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"PatientFields": {"type": "object", "properties": fields},
                                   "Finding": finding}},
        "paths": {
            "/api/token": {"post": {
                "summary": "Log in: a token for the Authorization header",
                "requestBody": {"content": {_JSON: {"schema": {"type": "object", "required": ["username", "password"],
                                                               "properties": {"username": {"type": "string"},
                                                                              "password": {"type": "string"}}}}}},
                "responses": {"200": _ok("token", {"type": "object", "properties": {"token": {"type": "string"}}}),
                              "401": _ok("wrong username or password"),
                              "429": _ok("too many failed logins")}}},
            "/api/patients": {
                "get": {"summary": "Patients you may see", "security": auth,
                        "responses": {"200": _ok("patient_id and center of each")}},
                "post": {"summary": "Enter a new patient in your center, with its other rows in "
                                   '"tables" ({"adverse_events": [{...}], ...}): all saved or none',
                         "security": auth,
                         "responses": {"201": _ok("created, with its findings"),
                                       "409": _ok("id in use, or the study is locked")}}},
            "/api/patients/{patient_id}": {
                "parameters": [{"name": "patient_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "A patient's fields, other rows and open findings", "security": auth,
                        "responses": {"200": _ok("the patient"), "404": not_found}},
                "patch": {"summary": "Change fields; 'reason' is required to change a saved value or to "
                                     "keep a value that fails a check", "security": auth,
                          "requestBody": {"content": {_JSON: {"schema": {"allOf": [
                              {"$ref": "#/components/schemas/PatientFields"},
                              {"type": "object", "properties": {"reason": {"type": "string"}}}]}}}},
                          "responses": {"200": _ok("saved, with the findings left open"), "404": not_found,
                                        "409": _ok("the patient or the study is locked"),
                                        "422": _ok("a reason is required (nothing saved)")}}},
            "/api/audit": {"get": {"summary": "A patient's audit trail", "security": auth,
                                   "parameters": [{"name": "patient_id", "in": "query", "required": True,
                                                   "schema": {"type": "string"}}],
                                   "responses": {"200": _ok("user, time, field, old, new, reason of each change"),
                                                 "404": not_found}}},
            "/api/audit/export": {"get": {
                "summary": "One center's audit trail as CSV (center users: their own center only; coordinator "
                           "and monitors: any center); a cell a spreadsheet would run as a formula gets a "
                           "leading apostrophe", "security": auth,
                "parameters": [{"name": "center", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "the center's name (center users: optional, their own)"}],
                "responses": {"200": _ok("CSV: id, at_utc, user, action, table, record_id, patient_id, center, "
                                         "field, old, new, reason, hash", {"type": "string"}, "text/csv"),
                              "403": _ok("roles that do not read the audit trail (statistician, admin)"),
                              "404": _ok("no such center, or another center than a center user's own")}}},
            "/api/export": {"get": {"summary": "Snapshot zip: CSVs, study.xlsx, manifest.json", "security": auth,
                                    "responses": {"200": _ok("zip", {"type": "string", "format": "binary"},
                                                             "application/zip"),
                                                  "403": _ok("coordinator and statistician only")}}},
            "/api/lock": {"post": {
                "summary": "Set the data cut-off and lock the study, or (with patient_id) one patient; "
                           "a locked patient or study refuses every change (409)", "security": auth,
                "requestBody": {"content": {_JSON: {"schema": lock_body}}},
                "responses": {"200": _ok("locked (changed: false when it was already)"),
                              "400": _ok("no reason, or a cut-off that is not YYYY-MM-DD"),
                              "403": _ok("coordinator only"), "404": not_found}}},
            "/api/unlock": {"post": {
                "summary": "Unlock the study, or (with patient_id) one patient", "security": auth,
                "requestBody": {"content": {_JSON: {"schema": lock_body}}},
                "responses": {"200": _ok("unlocked (changed: false when it was not locked)"),
                              "403": _ok("coordinator only"), "404": not_found}}},
            "/api/schema": {"get": {"summary": "This document", "responses": {"200": _ok("OpenAPI")}}},
            **_query_paths(auth),
        },
    }


def _query_paths(auth) -> dict:
    """Data clarification queries (rules in queries.py)."""
    query = {"type": "object", "properties": {
        **{k: {"type": ["string", "null"]} for k in ("patient_id", "center", "table", "field", "rule", "text",
                                                     "opened_by", "opened_at", "updated_at")},
        "id": {"type": "integer"}, "record_id": {"type": ["integer", "null"]},
        "status": {"enum": ["open", "answered", "closed", "reopened"]},
        "messages": {"type": "array", "items": {"type": "object"}}}}
    text = {"content": {_JSON: {"schema": {"type": "object", "properties": {"text": {"type": "string"}}}}}}
    return {
        "/api/queries": {
            "get": {"summary": "Queries on the patients you may see", "security": auth,
                    "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                                   for n in ("patient_id", "status")],
                    "responses": {"200": _ok("the queries, each with its thread",
                                             {"type": "object", "properties": {"queries": {"type": "array",
                                                                                            "items": query}}})}},
            "post": {"summary": "Open a query on a field (coordinator, monitor)", "security": auth,
                     "requestBody": {"content": {_JSON: {"schema": {
                         "type": "object", "required": ["patient_id", "field", "text"],
                         "properties": {"patient_id": {"type": "string"},
                                        "table": {"type": "string", "default": "patients"},
                                        "record_id": {"type": "integer", "description": "row of `table`; "
                                                      "default the patients row"},
                                        "field": {"type": "string"}, "text": {"type": "string"},
                                        "rule": {"type": "string", "description": "the finding it comes from"}}}}}},
                     "responses": {"201": _ok("opened", query), "403": _ok("your role does not raise queries"),
                                   "404": _ok("no such patient, or not one you may see")}}},
        "/api/queries/{query_id}/{action}": {
            "parameters": [{"name": "query_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                           {"name": "action", "in": "path", "required": True,
                            "schema": {"enum": ["answer", "close", "reopen"]}}],
            "post": {"summary": "answer (the center's investigator), close or reopen (coordinator, monitor)",
                     "security": auth, "requestBody": text,
                     "responses": {"200": _ok("the query after the step", query),
                                   "403": _ok("your role does not take this step"),
                                   "404": _ok("no such query, or not one you may see"),
                                   "409": _ok("the query's status does not allow this step")}}},
    }
