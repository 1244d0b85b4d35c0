#!/usr/bin/python3
"""Client suite for a Kernel Gateway compatible server, written the way agent clients are (requests +
websocket-client). Run it against our gateway and against `jupyter server` to compare them:

    /usr/bin/python3 kg_client_suite.py http://127.0.0.1:PORT TOKEN > observations.json

Every check records what it observed (status codes, JSON keys, message types); a check that fails
records the error. The caller compares the observations of the two servers.
"""
import json
import os
import signal
import sys
import time
import traceback
import uuid

import requests
import websocket

BASE = sys.argv[1].rstrip("/")
TOKEN = sys.argv[2]
WS_BASE = "ws" + BASE[len("http"):]
AUTH = {"Authorization": "token " + TOKEN}
TIMEOUT = 60
CHECK_TIMEOUT = int(os.environ.get("SUITE_CHECK_TIMEOUT", "45"))


def header(msg_type, session):
    return {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "suite", "session": session,
            "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())}


CLIENTS = []   # the current check's clients, to say what they had seen when it fails


class Client:
    def __init__(self, kernel_id, session=None, query_token=False, subprotocol=None):
        url = f"{WS_BASE}/api/kernels/{kernel_id}/channels"
        params = []
        if session:
            params.append("session_id=" + session)
        if query_token:
            params.append("token=" + TOKEN)
        if params:
            url += "?" + "&".join(params)
        kwargs = {"timeout": TIMEOUT}
        if not query_token:
            kwargs["header"] = ["Authorization: token " + TOKEN]
        if subprotocol:
            kwargs["subprotocols"] = [subprotocol]
        self.ws = websocket.create_connection(url, **kwargs)
        self.session = session or uuid.uuid4().hex
        self.seen = []
        CLIENTS.append(self)

    def send(self, msg_type, content, channel="shell", buffers_object=False):
        h = header(msg_type, self.session)
        msg = {"header": h, "parent_header": {}, "metadata": {}, "content": content}
        if channel is not None:
            msg["channel"] = channel
        if buffers_object:
            msg["buffers"] = {}
        self.ws.send(json.dumps(msg))
        return h["msg_id"]

    def execute(self, code, channel="shell", allow_stdin=False):
        return self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": allow_stdin,
                                             "stop_on_error": True}, channel)

    def recv(self):
        frame = self.ws.recv_data()
        opcode, data = frame
        if opcode == websocket.ABNF.OPCODE_BINARY:
            n = int.from_bytes(data[:4], "big")
            offsets = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(n)] + [len(data)]
            msg = json.loads(data[offsets[0]:offsets[1]])
            msg["_binary_buffers"] = n - 1
        else:
            msg = json.loads(data)
        self.seen.append(msg)
        return msg

    def wait(self, pred, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            m = self.recv()
            if pred(m):
                return m
        raise TimeoutError("no matching message; seen " + ",".join(m.get("msg_type", "?") for m in self.seen))

    def reply(self, msg_id):
        got, reply, idle = [], False, False
        while not (reply and idle):
            m = self.wait(lambda m: m.get("parent_header", {}).get("msg_id") == msg_id)
            got.append(m)
            reply = reply or m["msg_type"] == "execute_reply"
            idle = idle or (m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")
        return got

    def run(self, code, channel="shell"):
        return self.reply(self.execute(code, channel))

    def wait_ready(self, timeout=TIMEOUT):
        """After a restart, as jupyter clients do: kernel_info_request until its iopub status arrives.
        A server subscribes to the new kernel's iopub anew, and ZeroMQ drops what is published before
        a subscription takes effect, so output of an execute sent at once can be lost (jupyter server
        loses it on a busy machine)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            mid = self.send("kernel_info_request", {})
            try:
                self.wait(lambda m: m.get("parent_header", {}).get("msg_id") == mid and m["msg_type"] == "status",
                          timeout=1.0)
                return
            except (TimeoutError, websocket.WebSocketTimeoutException):
                continue
        raise TimeoutError("the kernel did not become ready")

    def close(self):
        self.ws.close()


def stdout(msgs):
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")


def post_kernel(body=None):
    r = requests.post(BASE + "/api/kernels", headers=AUTH, data=None if body is None else body, timeout=TIMEOUT)
    return r


def new_kernel():
    r = post_kernel()
    assert r.status_code == 201, r.status_code
    return r.json()["id"]


def delete(kid):
    requests.delete(f"{BASE}/api/kernels/{kid}", headers=AUTH, timeout=TIMEOUT)


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


@check
def rest_api():
    r = requests.get(BASE + "/api", headers=AUTH, timeout=TIMEOUT)
    no = requests.get(BASE + "/api/kernels", timeout=TIMEOUT)
    bad = requests.get(BASE + "/api/kernels?token=wrong", timeout=TIMEOUT)
    specs = requests.get(BASE + "/api/kernelspecs", headers=AUTH, timeout=TIMEOUT).json()
    missing_spec = requests.get(BASE + "/api/kernelspecs/nope", headers=AUTH, timeout=TIMEOUT)
    listing = requests.get(BASE + "/api/kernels", headers=AUTH, timeout=TIMEOUT)
    return {"api": r.status_code, "api_keys": sorted(r.json()), "no_token": no.status_code, "wrong_token": bad.status_code,
            "kernelspecs_keys": sorted(specs), "default": specs["default"],
            "spec_keys": sorted(specs["kernelspecs"]["python3"]), "spec_spec_keys": sorted(specs["kernelspecs"]["python3"]["spec"]),
            "missing_spec": missing_spec.status_code, "list": listing.status_code}


@check
def rest_errors():
    unknown = "00000000-0000-0000-0000-000000000000"
    g = requests.get(f"{BASE}/api/kernels/{unknown}", headers=AUTH, timeout=TIMEOUT)
    malformed = post_kernel("{\"name\": ")
    nospec = post_kernel(json.dumps({"name": "nope"}))
    out = {"unknown_kernel": g.status_code, "unknown_kernel_body_keys": sorted(g.json()) if g.headers.get("content-type", "").startswith("application/json") else None,
           "malformed_json": malformed.status_code, "unknown_kernelspec": nospec.status_code}
    try:
        websocket.create_connection(f"{WS_BASE}/api/kernels/{unknown}/channels", header=["Authorization: token " + TOKEN], timeout=TIMEOUT)
        out["ws_unknown_kernel"] = "accepted"
    except websocket.WebSocketBadStatusException as e:
        out["ws_unknown_kernel"] = e.status_code
    return out


@check
def a_post_then_execute_without_channel():
    r = post_kernel()
    kid = r.json()["id"]
    c = Client(kid)
    msgs = c.reply(c.execute("print('hello')\n6*7", channel=None))
    err = c.run("1/0", channel=None)
    c.close()
    delete(kid)
    types = [m["msg_type"] for m in msgs]
    result = next(m for m in msgs if m["msg_type"] == "execute_result")
    return {"post": r.status_code, "location": r.headers.get("Location", "").startswith("/api/kernels/"),
            "model_keys": sorted(r.json()), "types": sorted(set(types)), "stdout": stdout(msgs),
            "result": result["content"]["data"]["text/plain"],
            "message_keys": sorted(k for k in result if not k.startswith("_")),
            "channels": sorted({m["channel"] for m in msgs}),
            "error": next(m["content"]["ename"] for m in err if m["msg_type"] == "error")}


@check
def b_new_websocket_per_execution_with_query_token():
    kid = new_kernel()
    c = Client(kid, query_token=True)
    c.run("x = 41")
    c.close()
    c = Client(kid, query_token=True)
    out = stdout(c.run("print(x + 1)"))
    c.close()
    try:
        websocket.create_connection(f"{WS_BASE}/api/kernels/{kid}/channels", timeout=TIMEOUT)
        unauth = "accepted"
    except websocket.WebSocketBadStatusException as e:
        unauth = e.status_code
    delete(kid)
    return {"stdout": out, "ws_without_token": unauth}


@check
def c_header_token_shell_buffers_object_kernel_info():
    kid = new_kernel()
    c = Client(kid)
    mid = c.send("kernel_info_request", {}, "shell", buffers_object=True)
    reply = c.wait(lambda m: m["msg_type"] == "kernel_info_reply" and m["parent_header"].get("msg_id") == mid)
    c.close()
    delete(kid)
    return {"channel": reply["channel"], "status": reply["content"]["status"],
            "language": reply["content"]["language_info"]["name"]}


@check
def d_interrupt_restart_delete():
    kid = new_kernel()
    c = Client(kid)
    mid = c.execute("import time; time.sleep(60)")
    c.wait(lambda m: m["msg_type"] == "status" and m["parent_header"].get("msg_id") == mid and m["content"]["execution_state"] == "busy")
    time.sleep(0.3)
    i = requests.post(f"{BASE}/api/kernels/{kid}/interrupt", headers=AUTH, timeout=TIMEOUT)
    msgs = c.reply(mid)
    r = requests.post(f"{BASE}/api/kernels/{kid}/restart", headers=AUTH, timeout=TIMEOUT)
    c.wait_ready()
    after = c.run("print('back')")
    c.close()
    d = requests.delete(f"{BASE}/api/kernels/{kid}", headers=AUTH, timeout=TIMEOUT)
    g = requests.get(f"{BASE}/api/kernels/{kid}", headers=AUTH, timeout=TIMEOUT)
    return {"interrupt": i.status_code, "ename": next(m["content"]["ename"] for m in msgs if m["msg_type"] == "error"),
            "restart": r.status_code, "same_id": r.json()["id"] == kid, "after_restart": stdout(after),
            "delete": d.status_code, "get_after_delete": g.status_code}


@check
def e_magics_and_shell_escapes():
    kid = new_kernel()
    c = Client(kid)
    echo = stdout(c.run("!echo escape")).strip()
    env = stdout(c.run("import os; print(os.environ.get('KERNEL_GATEWAY'))")).strip()
    c.close()
    delete(kid)
    return {"echo": echo, "KERNEL_GATEWAY": env}


@check
def f_two_connections():
    kid = new_kernel()
    a, b = Client(kid, session="sa" + uuid.uuid4().hex), Client(kid, session="sb" + uuid.uuid4().hex)
    conns = requests.get(f"{BASE}/api/kernels/{kid}", headers=AUTH, timeout=TIMEOUT).json()["connections"]
    mid = a.execute("print('all')")
    a.reply(mid)
    s = b.wait(lambda m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == mid)
    b.wait(lambda m: m["msg_type"] == "status" and m["parent_header"].get("msg_id") == mid and m["content"]["execution_state"] == "idle")
    b_reply = any(m["msg_type"] == "execute_reply" and m["parent_header"].get("msg_id") == mid for m in b.seen)
    a.close(); b.close()
    delete(kid)
    return {"connections": conns, "b_stream": s["content"]["text"], "b_got_a_reply": b_reply}


@check
def g_sigkill_restarts():
    kid = new_kernel()
    c = Client(kid)
    pid = int(stdout(c.run("import os; print(os.getpid())")))
    os.kill(pid, signal.SIGKILL)
    st = c.wait(lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] in ("restarting", "dead"))
    c.wait_ready()
    again = int(stdout(c.run("import os; print(os.getpid())")))
    c.close()
    delete(kid)
    return {"status": st["content"]["execution_state"], "new_process": again != pid}


@check
def h_input_through_stdin():
    kid = new_kernel()
    c = Client(kid)
    mid = c.send("execute_request", {"code": "n = input('who? ')\nprint('hi', n)", "silent": False, "allow_stdin": True})
    req = c.wait(lambda m: m["msg_type"] == "input_request")
    c.send("input_reply", {"value": "agent"}, "stdin")
    out = stdout(c.reply(mid))
    c.close()
    delete(kid)
    return {"channel": req["channel"], "prompt": req["content"]["prompt"], "stdout": out}


@check
def buffers_and_v1():
    kid = new_kernel()
    c = Client(kid)
    msgs = c.run("from ipykernel.comm import Comm\nc = Comm(target_name='t', data={})\nc.send(data={'k': 1}, buffers=[b'abc'])")
    comm = next(m for m in msgs if m["msg_type"] == "comm_msg")
    c.close()
    v1 = Client(kid, subprotocol="v1.kernel.websocket.jupyter.org")
    proto = v1.ws.getsubprotocol()
    v1.close()
    delete(kid)
    return {"binary_buffers": comm.get("_binary_buffers"), "v1_negotiated": proto}


@check
def sessions_api():
    r = requests.post(BASE + "/api/sessions", headers=AUTH, timeout=TIMEOUT,
                      data=json.dumps({"path": "suite.ipynb", "type": "notebook", "name": "s", "kernel": {"name": "python3"}}))
    model = r.json()
    lst = requests.get(BASE + "/api/sessions", headers=AUTH, timeout=TIMEOUT)
    d = requests.delete(f"{BASE}/api/sessions/{model['id']}", headers=AUTH, timeout=TIMEOUT)
    g = requests.get(f"{BASE}/api/kernels/{model['kernel']['id']}", headers=AUTH, timeout=TIMEOUT)
    return {"post": r.status_code, "keys": sorted(model), "kernel_keys": sorted(model["kernel"]), "list": lst.status_code,
            "delete": d.status_code, "kernel_after_delete": g.status_code}


class CheckTimeout(Exception):
    pass


def on_alarm(_signum, _frame):
    raise CheckTimeout(f"the check took longer than {CHECK_TIMEOUT} s")


def main():
    # A check is bounded as a whole: websocket-client's timeout is per read, and a server that pings
    # more often than that would keep a wait for a message that never comes going forever.
    signal.signal(signal.SIGALRM, on_alarm)
    results = {}
    for fn in CHECKS:
        started = time.monotonic()
        CLIENTS.clear()
        print(f"{time.strftime('%H:%M:%S')} {fn.__name__} ...", file=sys.stderr, flush=True)
        signal.alarm(CHECK_TIMEOUT)
        try:
            results[fn.__name__] = {"ok": True, "observed": fn()}
        except Exception as e:  # a failed check is an observation too
            seen = "; ".join("client %d saw %s" % (i, ",".join(m.get("msg_type", "?") for m in c.seen) or "nothing")
                             for i, c in enumerate(CLIENTS))
            results[fn.__name__] = {"ok": False, "error": f"{type(e).__name__}: {e}" + (f" ({seen})" if seen else ""),
                                    "trace": traceback.format_exc()}
        finally:
            signal.alarm(0)
        outcome = "ok" if results[fn.__name__]["ok"] else "FAILED " + results[fn.__name__]["error"]
        print(f"{time.strftime('%H:%M:%S')} {fn.__name__} {outcome} in {time.monotonic() - started:.1f} s",
              file=sys.stderr, flush=True)
    json.dump(results, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
