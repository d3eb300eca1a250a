#!/usr/bin/env python3
"""Independent ledger verifier, written from docs/ledger-format.md alone (Python 3 standard library only).

Usage:
  verify.py chain FILE.jsonl [--head HEIGHT:HASH]   verify a JSON Lines export (doc sections 5 and 6)
  verify.py proof FILE.json                           verify a transaction proof (doc section 8)
  verify.py consistency OLD.json NEW.json PROOF.json  verify digest consistency (doc section 7)

Prints one JSON object on stdout; exit status 0 when valid, 1 when not, 2 on usage errors.
"""
import hashlib
import json
import re
import sys
from decimal import Decimal

# --- RFC 8785 canonical JSON (doc section 1) ---------------------------------------------------------


def es_number(x):
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("non-finite number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    # repr() gives the shortest digits that round-trip, as ECMAScript requires.
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    s = "".join(map(str, digits))
    k = len(s)
    n = exponent + k
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return mantissa + "e" + ("+" if e > 0 else "-") + str(abs(e))


def canonical_text(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return es_number(v)
    if isinstance(v, str):
        # json.dumps escapes exactly ", \, \b \f \n \r \t and other controls as lowercase \u00xx.
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canonical_text(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))  # UTF-16 code unit order
        return "{" + ",".join(canonical_text(k) + ":" + canonical_text(v[k]) for k in keys) + "}"
    raise TypeError("not JSON: %r" % (v,))


def canonical(v):
    return canonical_text(v).encode("utf-8")


# --- RFC 9162 Merkle trees (doc section 4) -----------------------------------------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaf_hashes):
    """Tree head from leaf hashes, by the RFC's recursive definition (split at the largest power of 2 < n)."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


class CompactTree:
    """Roots of the perfect subtrees of the leaves seen so far; the same MTH in O(log n) memory."""

    def __init__(self):
        self.stack = []  # (size, hash), largest first
        self.size = 0

    def append(self, h):
        node, size = h, 1
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            node, size = node_hash(left, node), size * 2
        self.stack.append((size, node))
        self.size += 1

    def root(self):
        if not self.stack:
            return sha256(b"")
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 section 2.1.4.2, with the equal-size and empty-tree cases of doc section 7."""
    if first > second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof and first_hash == sha256(b"")
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_hash and sr == second_hash


# --- Structure (doc sections 2 and 3) ----------------------------------------------------------------

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
HEADER = ("height", "timestamp", "previous_hash", "merkle_root", "transaction_count")
BLOCK = set(HEADER) | {"block_hash", "transactions"}
TX = {"transaction_id", "timestamp", "task_id", "vm_id", "status", "algorithm", "score", "reason",
      "task_requirements", "vm_state_before", "vm_state_after"}
GENESIS = {
    "height": 0, "timestamp": "1970-01-01T00:00:00.000Z", "previous_hash": "0" * 64,
    "merkle_root": hashlib.sha256(b"").hexdigest(), "transaction_count": 0, "transactions": [],
}


def reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_str(v):
    return isinstance(v, str)


def vector_ok(v):
    return isinstance(v, dict) and all(is_num(x) for x in v.values())


def snapshot_ok(v):
    return v is None or (isinstance(v, dict) and set(v) == {"reserved", "usage", "active_tasks"}
                         and vector_ok(v["reserved"]) and vector_ok(v["usage"]) and is_int(v["active_tasks"]))


def transaction_problem(t):
    if not isinstance(t, dict) or set(t) != TX:
        return "transaction members"
    checks = {
        "transaction_id": is_str(t["transaction_id"]) and HEX32.match(t["transaction_id"]),
        "timestamp": is_str(t["timestamp"]) and TIMESTAMP.match(t["timestamp"]),
        "task_id": is_str(t["task_id"]) and TASK_ID.match(t["task_id"]),
        "vm_id": t["vm_id"] is None or is_str(t["vm_id"]),
        "status": t["status"] in ("assigned", "rejected", "completed", "expired"),
        "algorithm": is_str(t["algorithm"]),
        "score": t["score"] is None or is_num(t["score"]),
        "reason": is_str(t["reason"]),
        "task_requirements": vector_ok(t["task_requirements"]),
        "vm_state_before": snapshot_ok(t["vm_state_before"]),
        "vm_state_after": snapshot_ok(t["vm_state_after"]),
    }
    bad = [k for k, ok in checks.items() if not ok]
    return bad[0] if bad else None


def block_problem(b):
    if not isinstance(b, dict) or set(b) != BLOCK:
        return "block members"
    for k in ("height", "transaction_count"):
        if not is_int(b[k]):
            return k
    for k in ("previous_hash", "merkle_root", "block_hash"):
        if not (is_str(b[k]) and HEX64.match(b[k])):
            return k
    if not (is_str(b["timestamp"]) and TIMESTAMP.match(b["timestamp"])):
        return "timestamp"
    if not isinstance(b["transactions"], list):
        return "transactions"
    for i, t in enumerate(b["transactions"]):
        p = transaction_problem(t)
        if p:
            return "transactions.%d.%s" % (i, p)
    return None


def header_hash(b):
    return sha256(canonical({k: b[k] for k in HEADER}))


# --- Chain verification (doc section 5) and digest (section 7) ---------------------------------------


def verify_chain(lines, head=None):
    tree, seen, prev, count, txs, last = CompactTree(), set(), None, 0, 0, None
    hash_at_head_height = None

    def report(problem=None, at=None, detail=None):
        out = {"valid": problem is None, "height": count - 1, "head_hash": last, "blocks_checked": count,
               "transactions_checked": txs, "first_bad_height": at, "problem": problem, "detail": detail}
        if problem is None:
            out["blocks_root"] = tree.root().hex()
        return out

    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            b = json.loads(line, parse_constant=reject_constant)
            p = block_problem(b)
            if p is None:
                canonical(b)  # a lone surrogate has no UTF-8 form
        except (ValueError, UnicodeError) as e:
            return report("malformed", count, "line %d: %s" % (number, e))
        if p:
            return report("malformed", count, "line %d: %s" % (number, p))
        if b["height"] != count:
            return report("height-gap", count, "height %d at position %d" % (b["height"], count))
        if count == 0:
            if {k: b[k] for k in GENESIS} != GENESIS or b["block_hash"] != header_hash(b).hex():
                return report("bad-genesis", 0)
        elif b["previous_hash"] != prev:
            return report("broken-link", count)
        if b["transaction_count"] != len(b["transactions"]):
            return report("wrong-transaction-count", count)
        root = mth([leaf_hash(canonical(t)) for t in b["transactions"]])
        if root.hex() != b["merkle_root"]:
            return report("wrong-merkle-root", count)
        h = header_hash(b)
        if h.hex() != b["block_hash"]:
            return report("wrong-block-hash", count)
        for t in b["transactions"]:
            phase = "decision" if t["status"] in ("assigned", "rejected") else "close"
            tag = b"bcs/transaction-id/v1\x00" + phase.encode() + b"\x00" + t["task_id"].encode("utf-8")
            if hashlib.sha256(tag).hexdigest()[:32] != t["transaction_id"]:
                return report("malformed", count, "transaction_id not derived from task_id and status")
            if t["transaction_id"] in seen:
                return report("duplicate-transaction", count)
            seen.add(t["transaction_id"])
        tree.append(leaf_hash(h))
        prev = last = b["block_hash"]
        if head is not None and count == head[0]:
            hash_at_head_height = last
        count += 1
        txs += len(b["transactions"])
    if count == 0:
        return report("bad-genesis", 0, "empty chain")
    if head is not None and (head[0] != count - 1 or head[1] != last):
        # The first block that differs from the expected history.
        if hash_at_head_height is None:
            first_bad = count
        elif hash_at_head_height != head[1]:
            first_bad = head[0]
        else:
            first_bad = head[0] + 1
        return report("head-mismatch", first_bad)
    return report()


def verify_proof(p):
    """Doc section 8, steps 1-4 (step 5, trusting the digest, is the caller's)."""
    hdr, d = p["block_header"], p["digest"]
    if p["height"] != hdr["height"] or p["height"] >= d["tree_size"] or d["tree_size"] != d["height"] + 1:
        return False
    tx_leaf = leaf_hash(canonical(p["transaction"]))
    if not verify_inclusion(tx_leaf, p["index"], hdr["transaction_count"],
                            [bytes.fromhex(x) for x in p["tx_proof"]], bytes.fromhex(hdr["merkle_root"])):
        return False
    h = header_hash(hdr)
    if p["height"] == d["height"] and h.hex() != d["head_hash"]:
        return False
    return verify_inclusion(leaf_hash(h), p["height"], d["tree_size"],
                            [bytes.fromhex(x) for x in p["block_proof"]], bytes.fromhex(d["blocks_root"]))


def main(argv):
    if len(argv) >= 2 and argv[0] == "chain":
        head = None
        if len(argv) == 4 and argv[2] == "--head":
            height, _, hash_hex = argv[3].partition(":")
            head = (int(height), hash_hex)
        with open(argv[1], encoding="utf-8") as f:
            result = verify_chain(f, head)
        ok = result["valid"]
    elif len(argv) == 2 and argv[0] == "proof":
        with open(argv[1], encoding="utf-8") as f:
            ok = verify_proof(json.load(f))
        result = {"valid": ok}
    elif len(argv) == 4 and argv[0] == "consistency":
        old, new, proof = (json.load(open(a, encoding="utf-8")) for a in argv[1:])
        ok = (old["tree_size"] <= new["tree_size"]
              and (old["tree_size"] != new["tree_size"] or old["head_hash"] == new["head_hash"])
              and verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["blocks_root"]),
                                     bytes.fromhex(new["blocks_root"]), [bytes.fromhex(x) for x in proof]))
        result = {"valid": ok}
    else:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
