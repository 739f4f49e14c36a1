"""The seed's set-up, for `npm run bench`'s FastMCP row (bench/compare.ts): a FastMCP backend
with an `echo` tool, and a FastMCP proxy mounting a backend by URL under the prefix `be`, as the
seed did. Both serve streamable HTTP on 127.0.0.1:PORT/mcp.

    python3 bench/fastmcp-seed.py backend PORT
    python3 bench/fastmcp-seed.py seed PORT BACKEND_URL

Each prints `listening http://127.0.0.1:PORT/mcp` once its port accepts connections.
Needs `pip install fastmcp` (2.x); the bench leaves the row out where it cannot be imported.
"""
import socket
import sys
import threading
import time

from fastmcp import FastMCP


def backend() -> FastMCP:
    server = FastMCP("backend")

    @server.tool
    def echo(message: str) -> str:
        """Echoes"""
        return f"echo: {message}"

    return server


def seed(backend_url: str) -> FastMCP:
    server = FastMCP("seed")
    server.mount(FastMCP.as_proxy(backend_url), prefix="be")
    return server


def announce_when_listening(port: int) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            print(f"listening http://127.0.0.1:{port}/mcp", flush=True)
            return
        except OSError:
            time.sleep(0.05)


if __name__ == "__main__":
    role, port = sys.argv[1], int(sys.argv[2])
    server = backend() if role == "backend" else seed(sys.argv[3])
    threading.Thread(target=announce_when_listening, args=(port,), daemon=True).start()
    server.run(transport="http", host="127.0.0.1", port=port, path="/mcp")
