"""A webhook receiver for the benchmark: answers every POST with 200 as fast as it can, in a
process of its own (uvicorn with httptools on uvloop), on 127.0.0.1 only.

    python -m bench.webhook_receiver --port 19180

The same receiver serves Flint's sender and the raw httpx loop, so the two are compared on
equal terms. It does not verify signatures: that is the receiver's cost, not the sender's.
"""

from __future__ import annotations

import argparse

import uvicorn

HOST = "127.0.0.1"  # never anything else
ANSWER = b'{"received":true}'


async def app(scope, receive, send) -> None:  # noqa: ANN001 - a bare ASGI app, no framework in the way
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole body, as a real receiver must before answering
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]})
    await send({"type": "http.response.body", "body": ANSWER})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_receiver", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=HOST, port=args.port, http="httptools", loop="uvloop", access_log=False,
                log_level="warning", server_header=False, date_header=False)


if __name__ == "__main__":
    main()
