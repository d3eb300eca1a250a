"""Schemathesis hook: signs every request with AWS SigV4 for execute-api, as an IAM-authorised client of
the deployed stack does (its default authMode=iam). Loaded with SCHEMATHESIS_HOOKS=<this file> by
scripts/fuzz/schemathesis.ts (`sigv4: true`) for tests/aws/e2e-stack.test.ts.

Signing uses botocore's SigV4Auth: botocore is in the project's .venv, pinned by MiniStack's
requirements (scripts/emulator/requirements.txt), so nothing is hand-written here. The request is signed
as requests prepared it (final URL, query string and body bytes), through requests' auth hook, after
Schemathesis has serialised the case. Credentials and region come from the environment the test sets:
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN if any) and AWS_REGION.
"""

import os

import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_CREDENTIALS = Credentials(
    os.environ["AWS_ACCESS_KEY_ID"],
    os.environ["AWS_SECRET_ACCESS_KEY"],
    os.environ.get("AWS_SESSION_TOKEN"),
)
_REGION = os.environ.get("AWS_REGION", "us-east-1")
# The headers SigV4 adds; everything else requests sends is left as it is.
_SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")


class _SigV4(requests.auth.AuthBase):
    """Replaces the Authorization header Schemathesis was told to send (`--header "Authorization: SigV4"`,
    which makes the credentials explicit to its auth checks) with the request's real signature. A
    request without the header (a negative case that drops it) goes out unsigned, as such a client's
    would; Schemathesis's own probes without credentials do not pass through this hook at all."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Authorization" not in request.headers:
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        # Only the headers the gateway sees as they are: host is derived from the URL by botocore.
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body,
            headers={k: v for k, v in request.headers.items() if k.lower() == "content-type"},
        )
        SigV4Auth(_CREDENTIALS, "execute-api", _REGION).add_auth(signed)
        for name in _SIGNATURE_HEADERS:
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


@schemathesis.hook
def before_call(context, case, kwargs):
    kwargs["auth"] = _SigV4()
