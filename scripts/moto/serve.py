"""moto's server (as `moto_server` runs it), but answering one request at a time.

`moto_server` serves with threaded=True, and moto's DynamoDB transactions are not isolated from each
other: TransactWriteItems checks and writes item by item without a lock, and undoes a failed one by
restoring a copy of the whole table, which can also undo a concurrent transaction's writes. AWS
documents transactions as serializable, and the ledger store relies on it (racing writers append at
the same height). One request at a time gives moto that isolation; everything else is moto's own
code. docs/emulator.md has the failures seen with the threaded server.

    serve.py <host> <port>
"""

import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(
        host,
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )
