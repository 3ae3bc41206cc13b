"""A check list: the official Hyperliquid Python SDK, unmodified, against the strategy-host simulator.

Usage: python3 sdk_checklist.py BASE_URL PRIVATE_KEY
Each check drives the SDK's own methods and asserts the answer's shape and values as the venue
gives them. Prints one JSON object {check: "ok" | "FAIL: why"}; tests/sdk_clients.rs requires
every one to be "ok". Checks run in order and later ones build on earlier ones (orders placed,
fills made).
"""
import json
import sys
import threading
import time
import traceback
from decimal import Decimal

from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError
from hyperliquid.utils.types import Cloid

base_url, key = sys.argv[1], sys.argv[2]
wallet = Account.from_key(key)
addr = wallet.address
DEXES = ["", "xyz"]
info = Info(base_url, skip_ws=True, perp_dexs=DEXES)
exchange = Exchange(wallet, base_url, perp_dexs=DEXES)
results = {}
state = {}


def check(name):
    def wrap(f):
        try:
            f()
            results[name] = "ok"
        except Exception as e:  # noqa: BLE001 - a failed check is reported, not raised
            tb = traceback.format_exc().strip().splitlines()[-3:]
            results[name] = f"FAIL: {type(e).__name__}: {e} | {' / '.join(tb)}"
        return f
    return wrap


def D(x):
    return Decimal(str(x))


def is_num_str(s):
    return isinstance(s, str) and D(s) == D(s)


def status0(r):
    assert r["status"] == "ok", r
    return r["response"]["data"]["statuses"][0]


def pnl_terms(fills):
    """Over `fills`: closed PnL, fees; the account's funding, unrealized PnL and account value,
    summed over the dexes."""
    closed = sum(D(f["closedPnl"]) for f in fills)
    fees = sum(D(f["fee"]) for f in fills)
    funding = sum(D(f["delta"]["usdc"]) for f in info.user_funding_history(addr, 0))
    states = [info.user_state(addr, dex) for dex in DEXES]
    upnl = sum(D(p["position"]["unrealizedPnl"]) for st in states for p in st["assetPositions"])
    value = sum(D(st["marginSummary"]["accountValue"]) for st in states)
    return closed, fees, funding, upnl, value


def best(coin):
    b = info.l2_snapshot(coin)
    return D(b["levels"][0][0]["px"]), D(b["levels"][1][0]["px"])


# --- market data over HTTP ------------------------------------------------------------------

@check("info.meta")
def _():
    m = info.meta()
    names = [a["name"] for a in m["universe"]]
    assert "BTC" in names, names
    for a in m["universe"]:
        assert isinstance(a["szDecimals"], int) and isinstance(a["maxLeverage"], int), a


@check("info.meta_and_asset_ctxs")
def _():
    meta, ctxs = info.meta_and_asset_ctxs()
    assert len(meta["universe"]) == len(ctxs)
    for c in ctxs:
        for k in ("funding", "openInterest", "oraclePx", "markPx", "midPx", "premium", "dayNtlVlm"):
            assert is_num_str(c[k]), (k, c)


@check("info.perp_dexs")
def _():
    d = info.perp_dexs()
    assert d[0] is None and d[1]["name"] == "xyz", d


@check("info.spot_meta")
def _():
    s = info.spot_meta()
    assert s["universe"], "a spot pair"
    pair = s["universe"][0]
    tokens = {t["index"]: t for t in s["tokens"]}
    assert all(t in tokens for t in pair["tokens"]), pair
    assert info.name_to_asset(pair["name"]) == 10000 + pair["index"]


@check("info.name_to_asset hip3")
def _():
    assert info.name_to_asset("xyz:TSLA") == 110000


@check("info.all_mids")
def _():
    mids = info.all_mids()
    bid, ask = best("BTC")
    assert bid <= D(mids["BTC"]) <= ask, (mids, bid, ask)


@check("info.l2_snapshot")
def _():
    b = info.l2_snapshot("BTC")
    bids, asks = b["levels"]
    assert b["coin"] == "BTC" and isinstance(b["time"], int)
    assert all(D(x["px"]) > D(y["px"]) for x, y in zip(bids, bids[1:]))
    assert all(D(x["px"]) < D(y["px"]) for x, y in zip(asks, asks[1:]))
    assert D(bids[0]["px"]) < D(asks[0]["px"])
    assert all(isinstance(l["n"], int) and D(l["sz"]) > 0 for l in bids + asks)


@check("info l2Book nSigFigs")
def _():
    full = info.l2_snapshot("BTC")
    coarse = info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 2})
    for lv in coarse["levels"][0] + coarse["levels"][1]:
        digits = D(lv["px"]).normalize().as_tuple().digits
        assert len(digits) <= 2, lv
    total = lambda side: sum(D(l["sz"]) for l in side)
    assert total(coarse["levels"][0]) >= D(full["levels"][0][0]["sz"])
    assert D(coarse["levels"][0][0]["px"]) <= D(full["levels"][0][0]["px"])
    assert D(coarse["levels"][1][0]["px"]) >= D(full["levels"][1][0]["px"])


@check("info.funding_history")
def _():
    now = int(time.time() * 1000)
    h = info.funding_history("BTC", now - 5 * 3600 * 1000, now)
    assert len(h) >= 4, h
    for x in h:
        assert x["coin"] == "BTC" and is_num_str(x["fundingRate"]) and is_num_str(x["premium"])
        assert x["time"] % 3600000 == 0
    assert [x["time"] for x in h] == sorted(x["time"] for x in h)


@check("info unsupported request -> ClientError")
def _():
    try:
        info.post("/info", {"type": "noSuchRequest"})
    except ClientError as e:
        assert e.status_code == 422, e.status_code
        return
    raise AssertionError("no error")


# --- orders ---------------------------------------------------------------------------------

@check("exchange.order Gtc rests")
def _():
    bid, _ = best("BTC")
    px = float(int(bid * D("0.98")))
    st = status0(exchange.order("BTC", True, 0.01, px, {"limit": {"tif": "Gtc"}}, cloid=Cloid.from_int(7)))
    state["rest_oid"] = st["resting"]["oid"]
    state["rest_px"] = px


@check("info.open_orders")
def _():
    oo = info.open_orders(addr)
    o = [x for x in oo if x["oid"] == state["rest_oid"]][0]
    assert o["coin"] == "BTC" and o["side"] == "B" and D(o["sz"]) == D("0.01"), o


@check("info.frontend_open_orders")
def _():
    o = [x for x in info.frontend_open_orders(addr) if x["oid"] == state["rest_oid"]][0]
    assert o["orderType"] == "Limit" and o["tif"] == "Gtc", o
    assert o["reduceOnly"] is False and o["isTrigger"] is False and o["isPositionTpsl"] is False, o
    assert o["triggerCondition"] == "N/A" and D(o["triggerPx"]) == 0 and o["children"] == [], o
    assert D(o["origSz"]) == D("0.01") and o["cloid"] == Cloid.from_int(7).to_raw(), o


@check("info.query_order_by_oid")
def _():
    r = info.query_order_by_oid(addr, state["rest_oid"])
    assert r["status"] == "order", r
    assert r["order"]["status"] == "open" and r["order"]["order"]["oid"] == state["rest_oid"], r
    assert isinstance(r["order"]["statusTimestamp"], int)
    assert info.query_order_by_oid(addr, 1)["status"] == "unknownOid"


@check("info.query_order_by_cloid")
def _():
    r = info.query_order_by_cloid(addr, Cloid.from_int(7))
    assert r["status"] == "order" and r["order"]["order"]["oid"] == state["rest_oid"], r


@check("exchange.modify_order")
def _():
    px = state["rest_px"] - 10
    r = exchange.modify_order(state["rest_oid"], "BTC", True, 0.02, px, {"limit": {"tif": "Gtc"}})
    assert r["status"] == "ok", r
    o = [x for x in info.open_orders(addr) if x["coin"] == "BTC"]
    assert len(o) == 1 and D(o[0]["limitPx"]) == D(px) and D(o[0]["sz"]) == D("0.02"), o
    state["rest_oid"] = o[0]["oid"]


@check("exchange.bulk_modify_orders_new")
def _():
    px = state["rest_px"] - 20
    r = exchange.bulk_modify_orders_new([{
        "oid": state["rest_oid"], "order": {"coin": "BTC", "is_buy": True, "sz": 0.03, "limit_px": px,
                                            "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False}}])
    assert r["status"] == "ok", r
    o = [x for x in info.open_orders(addr) if x["coin"] == "BTC"]
    assert len(o) == 1 and D(o[0]["limitPx"]) == D(px) and D(o[0]["sz"]) == D("0.03"), o
    state["rest_oid"] = o[0]["oid"]


@check("exchange.cancel")
def _():
    assert status0(exchange.cancel("BTC", state["rest_oid"])) == "success"
    assert not [x for x in info.open_orders(addr) if x["oid"] == state["rest_oid"]]
    r = info.query_order_by_oid(addr, state["rest_oid"])
    assert r["order"]["status"] == "canceled", r


@check("exchange.cancel_by_cloid")
def _():
    bid, _ = best("BTC")
    exchange.order("BTC", True, 0.01, float(int(bid * D("0.97"))), {"limit": {"tif": "Gtc"}}, cloid=Cloid.from_int(8))
    assert status0(exchange.cancel_by_cloid("BTC", Cloid.from_int(8))) == "success"


@check("exchange.order Ioc fills")
def _():
    _, ask = best("BTC")
    st = status0(exchange.order("BTC", True, 0.01, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == D("0.01") and D(st["filled"]["avgPx"]) >= ask, st


@check("exchange.order too small")
def _():
    _, ask = best("BTC")
    st = status0(exchange.order("BTC", True, 0.0001, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    assert st["error"] == "Order must have minimum value of $10.", st


@check("exchange.order outside the price band")
def _():
    bid, _ = best("BTC")
    st = status0(exchange.order("BTC", True, 0.01, float(int(bid * D("0.1"))), {"limit": {"tif": "Gtc"}}))
    assert "80% away from the reference price" in st["error"], st


@check("exchange.market_open and market_close")
def _():
    st = status0(exchange.market_open("BTC", False, 0.02))
    assert D(st["filled"]["totalSz"]) == D("0.02"), st
    st = status0(exchange.market_close("BTC", 0.01))
    assert D(st["filled"]["totalSz"]) == D("0.01"), st


@check("exchange.update_leverage")
def _():
    assert exchange.update_leverage(5, "BTC", is_cross=True)["status"] == "ok"
    status0(exchange.market_open("BTC", True, 0.01))
    p = [x for x in info.user_state(addr)["assetPositions"] if x["position"]["coin"] == "BTC"][0]["position"]
    assert p["leverage"] == {"type": "cross", "value": 5}, p
    assert abs(D(p["marginUsed"]) - D(p["positionValue"]) / 5) <= D("0.000001"), p
    status0(exchange.market_close("BTC"))
    bad = exchange.update_leverage(500, "BTC")
    assert bad["status"] == "err", bad


@check("HIP-3: a new account's HIP-3 order needs collateral on its dex (send_asset)")
def _():
    assert info.query_user_abstraction_state(addr) == "default"
    assert info.query_user_dex_abstraction_state(addr) is None
    _, ask = best("xyz:TSLA")
    r = exchange.order("xyz:TSLA", True, 1, float(round(ask * D("1.01"), 2)), {"limit": {"tif": "Ioc"}})
    st = r["response"]["data"]["statuses"][0]
    assert st == {"error": "Insufficient margin to place order."}, st
    assert exchange.send_asset(addr, "", "xyz", "USDC", 500)["status"] == "ok"
    xyz = info.user_state(addr, "xyz")
    assert D(xyz["marginSummary"]["accountValue"]) == 500 and D(xyz["withdrawable"]) == 500, xyz


@check("exchange.update_isolated_margin")
def _():
    _, ask = best("xyz:TSLA")
    assert exchange.update_leverage(3, "xyz:TSLA", is_cross=False)["status"] == "ok"
    st = status0(exchange.order("xyz:TSLA", True, 1, float(round(ask * D("1.01"), 2)), {"limit": {"tif": "Ioc"}}))
    assert "filled" in st, st
    before = [x for x in info.user_state(addr, "xyz")["assetPositions"]][0]["position"]
    assert before["leverage"]["type"] == "isolated", before
    assert exchange.update_isolated_margin(20, "xyz:TSLA")["status"] == "ok"
    after = [x for x in info.user_state(addr, "xyz")["assetPositions"]][0]["position"]
    assert D(after["marginUsed"]) == D(before["marginUsed"]) + 20, (before, after)
    assert D(after["liquidationPx"]) < D(before["liquidationPx"]), (before, after)


@check("exchange trigger orders (tp/sl)")
def _():
    status0(exchange.market_open("BTC", False, 0.01))
    bid, ask = best("BTC")
    # Closing the short: a stop above the mark (market), a take profit below it (limit).
    sl = {"trigger": {"triggerPx": float(int(ask * D("1.5"))), "isMarket": True, "tpsl": "sl"}}
    tp = {"trigger": {"triggerPx": float(int(bid * D("0.6"))), "isMarket": False, "tpsl": "tp"}}
    r = exchange.bulk_orders([
        {"coin": "BTC", "is_buy": True, "sz": 0.01, "limit_px": float(int(ask * D("1.6"))), "order_type": sl, "reduce_only": True},
        {"coin": "BTC", "is_buy": True, "sz": 0.01, "limit_px": float(int(bid * D("0.6"))), "order_type": tp, "reduce_only": True},
    ], grouping="positionTpsl")
    assert r["status"] == "ok" and all("resting" in s for s in r["response"]["data"]["statuses"]), r
    trig = [x for x in info.frontend_open_orders(addr) if x["isTrigger"]]
    assert len(trig) == 2 and all(x["isPositionTpsl"] for x in trig), trig
    kinds = sorted(x["orderType"] for x in trig)
    assert kinds == ["Stop Market", "Take Profit Limit"], kinds
    assert any(x["triggerCondition"].startswith("Price above") for x in trig), trig
    for x in trig:
        assert status0(exchange.cancel("BTC", x["oid"])) == "success"
    # A stop the mark has already passed fires on the next tick and closes the position.
    st = status0(exchange.order("BTC", True, 0.01, float(int(ask * D("1.05"))),
                                {"trigger": {"triggerPx": float(int(bid * D("0.9"))), "isMarket": True, "tpsl": "sl"}},
                                reduce_only=True))
    assert "resting" in st, st
    end = time.time() + 5
    while time.time() < end:
        pos = [x for x in info.user_state(addr)["assetPositions"] if x["position"]["coin"] == "BTC"]
        if not pos:
            break
        time.sleep(0.1)
    assert not pos, f"the stop fired and closed the short: {pos}"


# --- the account ----------------------------------------------------------------------------

@check("info.user_fills and user_fills_by_time")
def _():
    fills = info.user_fills(addr)
    assert fills and all(f["coin"] for f in fills)
    for f in fills:
        for k in ("px", "sz", "fee", "closedPnl", "startPosition"):
            assert is_num_str(f[k]), (k, f)
        assert f["side"] in ("A", "B") and isinstance(f["tid"], int) and isinstance(f["time"], int)
    t0 = min(f["time"] for f in fills)
    by_time = info.user_fills_by_time(addr, t0, int(time.time() * 1000) + 1000)
    assert sorted(f["tid"] for f in by_time) == sorted(f["tid"] for f in fills)


@check("money: sum of fills = position")
def _():
    fills = info.user_fills(addr)
    for dex in DEXES:
        for p in info.user_state(addr, dex)["assetPositions"]:
            pos = p["position"]
            signed = sum(D(f["sz"]) * (1 if f["side"] == "B" else -1) for f in fills if f["coin"] == pos["coin"])
            assert signed == D(pos["szi"]), (pos, signed)


@check("money: account value = deposits + closed PnL - fees + funding + unrealized")
def _():
    closed, fees, funding, upnl, value = pnl_terms(info.user_fills(addr))
    expected = D(100000) + closed - fees + funding + upnl
    assert abs(value - expected) <= D("0.00001"), (value, closed, fees, funding, upnl)


@check("info.user_state hip3 dex is its own")
def _():
    main = info.user_state(addr)
    dex = info.user_state(addr, "xyz")
    assert dex["marginSummary"]["accountValue"] != main["marginSummary"]["accountValue"]
    for p in dex["assetPositions"]:
        assert p["position"]["leverage"]["type"] == "isolated", p


@check("info.historical_orders")
def _():
    h = info.historical_orders(addr)
    statuses = {x["status"] for x in h}
    assert {"filled", "canceled"} <= statuses, statuses
    for x in h:
        assert isinstance(x["statusTimestamp"], int) and x["order"]["coin"], x


@check("info.user_funding_history")
def _():
    h = info.user_funding_history(addr, 0, int(time.time() * 1000) + 1000)
    assert isinstance(h, list), h
    for f in h:
        assert f["delta"]["type"] == "funding" and is_num_str(f["delta"]["usdc"]), f
        assert f["time"] % 3600000 == 0, f


@check("info.user_fees")
def _():
    f = info.user_fees(addr)
    assert is_num_str(f["userCrossRate"]) and is_num_str(f["userAddRate"]), f
    assert isinstance(f["dailyUserVlm"], list) and "feeSchedule" in f, f


@check("info.candles_snapshot")
def _():
    now = int(time.time() * 1000)
    c = info.candles_snapshot("BTC", "1m", now - 3600 * 1000, now + 60000)
    assert c, "candles from the simulator's own trades"
    for k in c:
        assert k["s"] == "BTC" and k["i"] == "1m" and k["T"] - k["t"] == 59999, k
        assert D(k["l"]) <= min(D(k["o"]), D(k["c"])) <= max(D(k["o"]), D(k["c"])) <= D(k["h"]), k
        assert k["n"] >= 1 and D(k["v"]) > 0, k


@check("info.user_rate_limit")
def _():
    r = info.user_rate_limit(addr)
    assert r["nRequestsUsed"] > 0 and r["nRequestsCap"] >= 10000, r


# --- the WebSocket --------------------------------------------------------------------------

def hear(sub, n=1, timeout=10):
    ws = Info(base_url, skip_ws=False, perp_dexs=DEXES)
    got, frames = threading.Event(), []

    def cb(msg):
        frames.append(msg)
        if len(frames) >= n:
            got.set()
    ws.subscribe(sub, cb)
    ok = got.wait(timeout)
    ws.disconnect_websocket()
    assert ok, f"heard {len(frames)} of {n} frames for {sub}"
    return frames


def hear_after(sub, act, timeout=10):
    """The first frame of `sub` heard after `act()` ran (subscribed first)."""
    ws = Info(base_url, skip_ws=False, perp_dexs=DEXES)
    got, frames = threading.Event(), []
    ws.subscribe(sub, lambda m: (frames.append(m), got.set()))
    time.sleep(0.5)
    act()
    ok = got.wait(timeout)
    ws.disconnect_websocket()
    assert ok, f"nothing heard for {sub}"
    return frames[0]


def take_ask(buy=True):
    _, ask = best("BTC")
    px = ask * D("1.01") if buy else ask * D("0.9")
    exchange.order("BTC", buy, 0.01, float(int(px)), {"limit": {"tif": "Ioc"}})


@check("ws bbo")
def _():
    f = hear({"type": "bbo", "coin": "BTC"})[0]
    assert f["channel"] == "bbo" and f["data"]["coin"] == "BTC"


@check("ws l2Book")
def _():
    f = hear({"type": "l2Book", "coin": "BTC"})[0]
    assert f["channel"] == "l2Book" and len(f["data"]["levels"]) == 2


@check("ws l2Book nSigFigs")
def _():
    f = hear({"type": "l2Book", "coin": "BTC", "nSigFigs": 2})[0]
    for lv in f["data"]["levels"][0] + f["data"]["levels"][1]:
        assert len(D(lv["px"]).normalize().as_tuple().digits) <= 2, lv


@check("ws allMids")
def _():
    f = hear({"type": "allMids"})[0]
    assert f["channel"] == "allMids" and "BTC" in f["data"]["mids"], f


@check("ws trades")
def _():
    t = hear_after({"type": "trades", "coin": "BTC"}, take_ask)["data"][0]
    assert t["coin"] == "BTC" and t["side"] in ("A", "B") and is_num_str(t["px"]) and len(t["users"]) == 2, t


@check("ws candle")
def _():
    k = hear_after({"type": "candle", "coin": "BTC", "interval": "1m"}, take_ask)["data"]
    assert k["s"] == "BTC" and k["i"] == "1m" and k["n"] >= 1, k


@check("ws userEvents")
def _():
    f = hear_after({"type": "userEvents", "user": addr}, lambda: take_ask(buy=False))
    assert "fills" in f["data"], f


@check("ws webData2")
def _():
    f = hear({"type": "webData2", "user": addr})[0]
    d = f["data"]
    assert f["channel"] == "webData2" and "clearinghouseState" in d and "openOrders" in d, f


@check("ws userFundings")
def _():
    f = hear({"type": "userFundings", "user": addr})[0]
    assert f["channel"] == "userFundings" and f["data"]["isSnapshot"] is True, f
    assert isinstance(f["data"]["fundings"], list), f


@check("ws orderUpdates")
def _():
    u = hear_after({"type": "orderUpdates", "user": addr}, take_ask)["data"][0]
    assert u["status"] == "filled" and u["order"]["sz"] == "0.0", u


@check("ws unknown coin is refused")
def _():
    import websocket
    ws = websocket.create_connection(base_url.replace("http", "ws") + "/ws", timeout=5)
    assert ws.recv() == "Websocket connection established.", "the venue's greeting"
    ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "bbo", "coin": "NOPE"}}))
    msg = json.loads(ws.recv())
    ws.close()
    assert msg["channel"] == "error" and "Invalid subscription" in msg["data"], msg


@check("ws acks carry the venue's defaults")
def _():
    import websocket
    ws = websocket.create_connection(base_url.replace("http", "ws") + "/ws", timeout=5)
    ws.recv()
    acks = []
    for sub in ({"type": "l2Book", "coin": "BTC"}, {"type": "userFills", "user": addr}, {"type": "trades", "coin": "BTC"}):
        ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        while True:
            m = json.loads(ws.recv())
            if m["channel"] == "subscriptionResponse":
                acks.append(m["data"]["subscription"])
                break
    ws.send(json.dumps({"method": "unsubscribe", "subscription": {"type": "bbo", "coin": "BTC"}}))
    while True:
        m = json.loads(ws.recv())
        if m["channel"] == "error":
            break
    ws.close()
    assert acks[0] == {"type": "l2Book", "coin": "BTC", "nSigFigs": None, "mantissa": None}, acks
    assert acks[1] == {"type": "userFills", "user": addr, "aggregateByTime": False}, acks
    assert acks[2] == {"type": "trades", "coin": "BTC"}, acks
    assert m["data"].startswith("Already unsubscribed"), m


# --- spot, transfers, sub-accounts, agents --------------------------------------------------

SPOT = "PURR/USDC"


def sig5(x):
    """A price on the venue's tick rule: 5 significant figures."""
    return float(f"{D(x):.5g}")


def spot_balances(user=addr):
    return {b["coin"]: b for b in info.spot_user_state(user)["balances"]}


def perp_value(user=addr):
    """The main dex's account value less its unrealized PnL (which moves with every tick)."""
    st = info.user_state(user)
    upnl = sum(D(p["position"]["unrealizedPnl"]) for p in st["assetPositions"])
    return D(st["marginSummary"]["accountValue"]) - upnl


@check("exchange.usd_class_transfer perp -> spot -> perp")
def _():
    before = perp_value()
    r = exchange.usd_class_transfer(200, False)
    assert r["status"] == "ok", r
    assert D(spot_balances()["USDC"]["total"]) == 200
    assert perp_value() == before - 200
    assert exchange.usd_class_transfer(50, True)["status"] == "ok"
    assert D(spot_balances()["USDC"]["total"]) == 150 and perp_value() == before - 150
    r = exchange.usd_class_transfer(10_000_000, False)
    assert r["status"] == "err", r


@check("info.spot_meta_and_asset_ctxs")
def _():
    meta, ctxs = info.spot_meta_and_asset_ctxs()
    assert meta["universe"][0]["name"] == SPOT and ctxs[0]["coin"] == SPOT, ctxs
    for k in ("markPx", "midPx", "prevDayPx", "dayNtlVlm", "circulatingSupply"):
        assert is_num_str(ctxs[0][k]), (k, ctxs[0])
    assert SPOT in info.all_mids()


@check("exchange.order spot buy: USDC paid, fee in the token")
def _():
    _, ask = best(SPOT)
    st = status0(exchange.order(SPOT, True, 100, sig5(ask * D("1.01")), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == 100, st
    fill = [f for f in info.user_fills(addr) if f["coin"] == SPOT][0]
    assert fill["dir"] == "Buy" and fill["feeToken"] == "PURR" and fill["side"] == "B", fill
    assert fill["closedPnl"] == "0.0" and fill["startPosition"] == "0.0", "zeros as the venue writes them"
    b = spot_balances()
    assert D(b["PURR"]["total"]) == 100 - D(fill["fee"]), (b, fill)
    assert D(b["USDC"]["total"]) == 150 - 100 * D(fill["px"]), (b, fill)
    assert D(b["PURR"]["entryNtl"]) == 100 * D(fill["px"]), b
    state["purr"] = D(b["PURR"]["total"])


@check("exchange.order spot resting sell holds the tokens")
def _():
    _, ask = best(SPOT)
    st = status0(exchange.order(SPOT, False, 60, sig5(ask * D("1.05")), {"limit": {"tif": "Gtc"}}))
    oid = st["resting"]["oid"]
    assert D(spot_balances()["PURR"]["hold"]) == 60
    st = status0(exchange.order(SPOT, False, 60, sig5(ask * D("1.05")), {"limit": {"tif": "Gtc"}}))
    assert "Insufficient spot balance" in st["error"], st
    assert [o for o in info.open_orders(addr) if o["coin"] == SPOT][0]["oid"] == oid
    assert status0(exchange.cancel(SPOT, oid)) == "success"
    assert D(spot_balances()["PURR"]["hold"]) == 0


@check("exchange.order spot sell: USDC received less the fee, closed PnL at cost")
def _():
    bid, _ = best(SPOT)
    usdc = D(spot_balances()["USDC"]["total"])
    st = status0(exchange.order(SPOT, False, 90, sig5(bid * D("0.99")), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == 90, st
    fill = [f for f in info.user_fills(addr) if f["coin"] == SPOT][0]
    assert fill["dir"] == "Sell" and fill["feeToken"] == "USDC", fill
    b = spot_balances()
    assert D(b["USDC"]["total"]) == usdc + 90 * D(fill["px"]) - D(fill["fee"]), (b, fill)
    assert D(b["PURR"]["total"]) == state["purr"] - 90
    assert D(fill["startPosition"]) == state["purr"], fill
    assert D(fill["closedPnl"]) != 0, fill


@check("money: spot tokens = bought - fees - sold")
def _():
    fills = [f for f in info.user_fills(addr) if f["coin"] == SPOT]
    held = sum((D(f["sz"]) - D(f["fee"])) if f["side"] == "B" else -D(f["sz"]) for f in fills)
    assert held == D(spot_balances()["PURR"]["total"]), held


@check("exchange.spot_transfer and usd_transfer")
def _():
    other = "0x000000000000000000000000000000000000dead"
    assert exchange.spot_transfer(5, other, "PURR:0x00000000000000000000000000000001")["status"] == "ok"
    assert D(spot_balances(other)["PURR"]["total"]) == 5
    before = perp_value()
    assert exchange.usd_transfer(25, other)["status"] == "ok"
    assert perp_value() == before - 25 and perp_value(other) == 25


@check("exchange.create_sub_account, sub_account_transfer, info subAccounts")
def _():
    r = exchange.create_sub_account("alpha")
    assert r["status"] == "ok" and r["response"]["type"] == "createSubAccount", r
    sub = r["response"]["data"]
    state["sub"] = sub
    assert exchange.create_sub_account("alpha")["status"] == "err"
    assert exchange.sub_account_transfer(sub, True, 500_000_000)["status"] == "ok"
    subs = info.query_sub_accounts(addr)
    assert subs[0]["name"] == "alpha" and subs[0]["subAccountUser"] == sub and subs[0]["master"] == addr.lower(), subs
    assert D(subs[0]["clearinghouseState"]["marginSummary"]["accountValue"]) == 500, subs
    assert exchange.sub_account_transfer(sub, False, 100_000_000)["status"] == "ok"
    assert perp_value(sub) == 400


@check("exchange with vault_address trades the sub-account")
def _():
    sub = state["sub"]
    as_sub = Exchange(wallet, base_url, vault_address=sub, perp_dexs=DEXES)
    _, ask = best("BTC")
    st = status0(as_sub.order("BTC", True, 0.001, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == D("0.001"), st
    pos = {p["position"]["coin"]: p["position"] for p in info.user_state(sub)["assetPositions"]}
    assert D(pos["BTC"]["szi"]) == D("0.001"), pos
    assert [f for f in info.user_fills(sub) if f["coin"] == "BTC"], "the sub-account's fill"
    stranger = Exchange(Account.create(), base_url, vault_address=sub, perp_dexs=DEXES)
    assert stranger.order("BTC", True, 0.001, 1000.0, {"limit": {"tif": "Gtc"}})["status"] == "err"


@check("exchange.approve_agent: the agent trades for the account")
def _():
    r, agent_key = exchange.approve_agent("bot")
    assert r["status"] == "ok", r
    state["agent"] = Account.from_key(agent_key).address
    agent = Exchange(Account.from_key(agent_key), base_url, account_address=addr, perp_dexs=DEXES)
    bid, _ = best("BTC")
    st = status0(agent.order("BTC", True, 0.001, float(int(bid * D("0.97"))), {"limit": {"tif": "Gtc"}}))
    oid = st["resting"]["oid"]
    assert any(o["oid"] == oid for o in info.open_orders(addr))
    assert status0(agent.cancel("BTC", oid)) == "success"
    # A user-signed action must be the account's own signature, not an agent's.
    assert agent.usd_class_transfer(1, False)["status"] == "err"



@check("vaults: create, the leader trades it, a follower deposits and is locked, vaultDetails")
def _():
    from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
    ts = get_timestamp_ms()
    action = {"type": "createVault", "name": "py-vault", "description": "a simulated vault", "initialUsd": 200_000_000, "nonce": ts}
    r = exchange._post_action(action, sign_l1_action(wallet, action, None, ts, None, False), ts)
    assert r["status"] == "ok" and r["response"]["type"] == "createVault", r
    vault = r["response"]["data"]
    leader = Exchange(wallet, base_url, vault_address=vault, perp_dexs=DEXES)
    _, ask = best("BTC")
    st = status0(leader.order("BTC", True, 0.001, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == D("0.001"), st
    assert D(info.user_state(vault)["assetPositions"][0]["position"]["szi"]) == D("0.001")
    follower = Account.create()
    assert exchange.usd_transfer(300, follower.address)["status"] == "ok"
    f_ex = Exchange(follower, base_url, perp_dexs=DEXES)
    assert f_ex.vault_usd_transfer(vault, True, 100_000_000)["status"] == "ok"
    eq = info.user_vault_equities(follower.address)
    assert eq[0]["vaultAddress"] == vault and abs(D(eq[0]["equity"]) - 100) < 1, eq
    assert eq[0]["lockedUntilTimestamp"] > ts + 86_000_000, eq
    r = f_ex.vault_usd_transfer(vault, False, 10_000_000)
    assert r["status"] == "err" and "lockup" in r["response"], r
    d = info.post("/info", {"type": "vaultDetails", "vaultAddress": vault})
    assert d["leader"] == addr.lower() and d["name"] == "py-vault", d
    users = {x["user"] for x in d["followers"]}
    assert users == {"Leader", follower.address.lower()}, users
    assert abs(d["leaderFraction"] - 2 / 3) < 0.01, d["leaderFraction"]
    assert exchange.vault_usd_transfer(vault, False, 195_000_000)["status"] == "err", "the leader keeps 5%"
    before = perp_value()
    assert exchange.vault_usd_transfer(vault, False, 10_000_000)["status"] == "ok"
    assert perp_value() == before + 10
    stranger = Exchange(follower, base_url, vault_address=vault, perp_dexs=DEXES)
    assert stranger.order("BTC", True, 0.001, 1000.0, {"limit": {"tif": "Gtc"}})["status"] == "err", "only the leader trades it"



@check("TWAP: twapOrder, its suborders' fills, userTwapSliceFills, twapHistory, twapCancel")
def _():
    from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action

    def post(action):
        ts = get_timestamp_ms()
        return exchange._post_action(action, sign_l1_action(wallet, action, None, ts, None, False), ts)

    asset = info.name_to_asset("BTC")
    r = post({"type": "twapOrder", "twap": {"a": asset, "b": True, "s": "0.01", "r": False, "m": 5, "t": False}})
    twap_id = r["response"]["data"]["status"]["running"]["twapId"]
    slices = info.user_twap_slice_fills(addr)
    mine = [x for x in slices if x["twapId"] == twap_id]
    assert mine and mine[0]["fill"]["twapId"] == twap_id and D(mine[0]["fill"]["sz"]) == D("0.001"), slices
    hist = info.post("/info", {"type": "twapHistory", "user": addr})
    h = [x for x in hist if x["twapId"] == twap_id]
    assert h[0]["status"]["status"] == "activated" and h[0]["state"]["minutes"] == 5, h
    assert h[0]["time"] < 10_000_000_000, "seconds, as the venue writes them"
    r = post({"type": "twapCancel", "a": asset, "t": twap_id})
    assert r["response"]["data"]["status"] == "success", r
    hist = info.post("/info", {"type": "twapHistory", "user": addr})
    assert [x for x in hist if x["twapId"] == twap_id][-1]["status"]["status"] == "terminated", hist



@check("builder fees: approve_builder_fee, maxBuilderFee, an order with a builder pays it")
def _():
    builder = "0x00000000000000000000000000000000000b0b00"
    assert exchange.approve_builder_fee(builder, "0.05%")["status"] == "ok"
    assert info.post("/info", {"type": "maxBuilderFee", "user": addr, "builder": builder}) == 50
    _, ask = best("BTC")
    px = float(int(ask * D("1.01")))
    r = exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Ioc"}}, builder={"b": builder, "f": 60})
    assert r["status"] == "err" and "not been approved" in r["response"], r
    st = status0(exchange.order("BTC", True, 0.001, px, {"limit": {"tif": "Ioc"}}, builder={"b": builder, "f": 20}))
    fill = [f for f in info.user_fills(addr) if f["oid"] == st["filled"]["oid"]][0]
    expected = D(fill["px"]) * D(fill["sz"]) * 20 / 100000
    assert abs(D(fill["builderFee"]) - expected) <= D("0.000001"), fill
    assert D(fill["fee"]) > D(fill["builderFee"]), "fee includes the builder's"


@check("exchange.withdraw_from_bridge")
def _():
    before = perp_value()
    assert exchange.withdraw_from_bridge(5, addr)["status"] == "ok"
    assert perp_value() == before - 5
    w = [x for x in info.user_non_funding_ledger_updates(addr, 0) if x["delta"]["type"] == "withdraw"]
    assert D(w[-1]["delta"]["usdc"]) == 5 and D(w[-1]["delta"]["fee"]) == 1, w


@check("info.user_role, extra_agents, portfolio")
def _():
    assert info.user_role(addr)["role"] == "user"
    sub = info.user_role(state["sub"])
    assert sub["role"] == "subAccount" and sub["data"]["master"] == addr.lower(), sub
    agent = info.user_role(state["agent"])
    assert agent["role"] == "agent" and agent["data"]["user"] == addr.lower(), agent
    assert info.user_role("0x00000000000000000000000000000000000000aa")["role"] == "missing"
    extra = info.extra_agents(addr)
    assert any(x["name"] == "bot" and x["address"] == state["agent"].lower() for x in extra), extra
    assert all(x["validUntil"] > time.time() * 1000 for x in extra), extra
    p = dict(info.portfolio(addr))
    assert set(p) == {"day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime"}, p.keys()
    value = sum(D(info.user_state(addr, dex)["marginSummary"]["accountValue"]) for dex in DEXES)
    last = D(p["allTime"]["accountValueHistory"][-1][1])
    assert abs(last - value) < 1, (last, value)
    assert D(p["allTime"]["vlm"]) > 0, p["allTime"]



@check("info activeAssetData, predictedFundings, recentTrades, l2Book mantissa")
def _():
    d = info.post("/info", {"type": "activeAssetData", "user": addr, "coin": "BTC"})
    assert d["coin"] == "BTC" and d["leverage"]["type"] in ("cross", "isolated"), d
    assert D(d["maxTradeSzs"][0]) > 0 and D(d["availableToTrade"][0]) > 0, d
    p = dict((c, x) for c, x in info.post("/info", {"type": "predictedFundings"}))
    assert p["BTC"][0][0] == "HlPerp" and p["BTC"][0][1]["nextFundingTime"] % 3600000 == 0, p
    t = info.post("/info", {"type": "recentTrades", "coin": "BTC"})
    assert t and all(x["coin"] == "BTC" for x in t), t
    b = info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 5})
    assert all(D(l["px"]) % 5 == 0 for l in b["levels"][0] + b["levels"][1]), b
    try:
        info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 4, "mantissa": 5})
    except ClientError:
        return
    raise AssertionError("mantissa without 5 figures was accepted")



@check("exchange.send_asset: perp and spot, another account, a HIP-3 dex's collateral; abstraction")
def _():
    spot_before = D(spot_balances()["USDC"]["total"])
    assert exchange.send_asset(addr, "", "spot", "USDC", 10)["status"] == "ok"
    assert D(spot_balances()["USDC"]["total"]) == spot_before + 10
    other = "0x000000000000000000000000000000000000beef"
    assert exchange.send_asset(other, "", "", "USDC", 2)["status"] == "ok"
    assert perp_value(other) == 2
    assert exchange.send_asset(other, "", "xyz", "USDC", 3)["status"] == "ok"
    theirs = info.user_state(other, "xyz")
    assert D(theirs["withdrawable"]) == 3 and perp_value(other) == 2, theirs
    before = perp_value()
    assert exchange.send_asset(other, "", "spot", "USDC", 4)["status"] == "ok"
    r = exchange.send_asset(addr, "", "xyz", "PURR", 1)
    assert r["status"] == "err" and "collateral" in r["response"], r
    assert D(spot_balances(other)["USDC"]["total"]) == 4 and perp_value() == before - 4
    # What xyz holds beyond its position's margin can come back, and no more.
    main_before = perp_value()
    idle = D(info.user_state(addr, "xyz")["withdrawable"])
    assert idle > 0
    assert exchange.send_asset(addr, "xyz", "", "USDC", float(idle))["status"] == "ok"
    assert perp_value() == main_before + idle and D(info.user_state(addr, "xyz")["withdrawable"]) == 0
    r = exchange.send_asset(addr, "xyz", "", "USDC", 1)
    assert r["status"] == "err", "no idle collateral left on xyz"
    _, ask = best("xyz:TSLA")
    px = float(round(ask * D("1.01"), 2))
    st = exchange.order("xyz:TSLA", True, 1, px, {"limit": {"tif": "Ioc"}})["response"]["data"]["statuses"][0]
    assert st == {"error": "Insufficient margin to place order."}, st
    # Dex abstraction: the main dex's USDC makes up the rest.
    assert exchange.user_dex_abstraction(addr, True)["status"] == "ok"
    assert info.query_user_abstraction_state(addr) == "dexAbstraction"
    assert info.query_user_dex_abstraction_state(addr) is True
    assert "filled" in status0(exchange.order("xyz:TSLA", True, 1, px, {"limit": {"tif": "Ioc"}}))
    r = exchange.agent_set_abstraction("i")
    assert r["status"] == "err" and "sendAsset" in r["response"], r
    r = exchange.user_set_abstraction(addr, "unifiedAccount")
    assert r["status"] == "err", r
    bid, _ = best("xyz:TSLA")
    status0(exchange.order("xyz:TSLA", False, 1, float(round(bid * D("0.99"), 2)), {"limit": {"tif": "Ioc"}}, reduce_only=True))
    assert exchange.send_asset(addr, "", "xyz", "USDC", 20)["status"] == "ok"
    assert exchange.agent_set_abstraction("i")["status"] == "ok"
    assert info.query_user_abstraction_state(addr) == "disabled"
    assert info.query_user_dex_abstraction_state(addr) is False


@check("referrals: registerReferrer, set_referrer's 4% discount, the referrer's 10%, claimRewards")
def _():
    from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
    ref = info.query_referral_state(addr)
    assert ref["referrerState"] == {"stage": "needToTrade", "data": {"required": "10000.0"}}, ref
    bid, ask = best("BTC")
    status0(exchange.order("BTC", True, 0.1, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    status0(exchange.order("BTC", False, 0.1, float(int(bid * D("0.99"))), {"limit": {"tif": "Ioc"}}))
    assert info.query_referral_state(addr)["referrerState"]["stage"] == "needToCreateCode"
    ts = get_timestamp_ms()
    action = {"type": "registerReferrer", "code": "SIMPY"}
    r = exchange._post_action(action, sign_l1_action(wallet, action, None, ts, None, False), ts)
    assert r["status"] == "ok", r
    assert info.query_referral_state(addr)["referrerState"]["stage"] == "ready"
    friend = Account.create()
    assert exchange.usd_transfer(2000, friend.address)["status"] == "ok"
    f_ex = Exchange(friend, base_url, perp_dexs=DEXES)
    assert info.query_referral_state(friend.address)["referrerState"]["stage"] == "needToTrade"
    assert f_ex.set_referrer("simpy")["status"] == "ok"
    assert f_ex.set_referrer("SIMPY")["status"] == "err", "once"
    _, ask = best("BTC")
    st = status0(f_ex.order("BTC", True, 0.01, float(int(ask * D("1.01"))), {"limit": {"tif": "Ioc"}}))
    fill = [f for f in info.user_fills(friend.address) if f["oid"] == st["filled"]["oid"]][0]
    full = D(fill["px"]) * D(fill["sz"]) * D("0.00045")
    assert abs(D(fill["fee"]) - full * D("0.96")) <= D("0.000001"), (fill["fee"], full)
    ref = info.query_referral_state(addr)
    assert abs(D(ref["unclaimedRewards"]) - D(fill["fee"]) / 10) <= D("0.000001"), ref
    states = ref["referrerState"]["data"]["referralStates"]
    assert states[0]["user"] == friend.address.lower() and ref["referrerState"]["data"]["nReferrals"] == 1, states
    assert info.query_referral_state(friend.address)["referredBy"]["code"] == "SIMPY"
    action = {"type": "claimRewards"}
    ts = get_timestamp_ms()
    r = exchange._post_action(action, sign_l1_action(wallet, action, None, ts, None, False), ts)
    assert r["status"] == "err" and "over $1" in r["response"], r


@check("staking: cDeposit, token_delegate, user_staking_summary/delegations/rewards, delegator_history")
def _():
    from hyperliquid.utils.signing import get_timestamp_ms, sign_user_signed_action
    _, ask = best("@1")
    st = status0(exchange.order("HYPE/USDC", True, 1, sig5(ask * D("1.01")), {"limit": {"tif": "Ioc"}}))
    assert D(st["filled"]["totalSz"]) == 1, st
    ts = get_timestamp_ms()
    action = {"type": "cDeposit", "wei": 40_000_000, "nonce": ts}
    sig = sign_user_signed_action(wallet, action, [{"name": "hyperliquidChain", "type": "string"},
        {"name": "wei", "type": "uint64"}, {"name": "nonce", "type": "uint64"}], "HyperliquidTransaction:CDeposit", False)
    assert exchange._post_action(action, sig, ts)["status"] == "ok"
    validator = info.post("/info", {"type": "validatorSummaries"})[0]["validator"]
    assert exchange.token_delegate(validator, 25_000_000, False)["status"] == "ok"
    s = info.user_staking_summary(addr)
    assert D(s["delegated"]) == D("0.25") and D(s["undelegated"]) == D("0.15"), s
    d = info.user_staking_delegations(addr)
    assert d[0]["validator"] == validator and D(d[0]["amount"]) == D("0.25"), d
    assert info.user_staking_rewards(addr) == [], "none yet: rewards are distributed at 00:00 UTC"
    h = info.delegator_history(addr)
    assert "delegate" in h[0]["delta"] and "cDeposit" in h[1]["delta"], h
    assert D(spot_balances()["HYPE"]["total"]) == 1 - D([f for f in info.user_fills(addr) if f["coin"] == "@1"][0]["fee"]) - D("0.4")


@check("HIP-3 deploy: perp_deploy_register_asset, the auction's gas in HYPE, perp_deploy_set_oracle, trading it, haltTrading")
def _():
    from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
    auction = info.post("/info", {"type": "perpDeployAuctionStatus"})
    assert auction["durationSeconds"] == 31 * 3600 and auction["endGas"] is None, auction
    hype = D(spot_balances()["HYPE"]["total"])
    r = exchange.perp_deploy_register_asset("pyd", None, "PYD", 2, "10.0", 10, True,
                                            {"fullName": "Py dex", "collateralToken": 0, "oracleUpdater": None})
    assert r["status"] == "ok", r
    sold = info.post("/info", {"type": "perpDeployAuctionStatus"})
    paid = D(sold["endGas"])
    assert sold["currentGas"] is None and 0 < paid <= D(auction["currentGas"]), (auction, sold)
    assert D(spot_balances()["HYPE"]["total"]) == hype - paid
    r = exchange.perp_deploy_register_asset("pyd", None, "PYE", 2, "5.0", 10, True, None)
    assert r["status"] == "err" and "slot is taken" in r["response"], r
    dexs = info.perp_dexs()
    d = [x for x in dexs if x and x["name"] == "pyd"][0]
    assert d["fullName"] == "Py dex" and d["deployer"] == addr.lower() == d["oracleUpdater"], d
    meta, ctxs = info.post("/info", {"type": "metaAndAssetCtxs", "dex": "pyd"})
    assert meta["universe"][0]["name"] == "pyd:PYD" and meta["universe"][0]["maxLeverage"] == 10, meta
    assert D(ctxs[0]["oraclePx"]) == 10, ctxs
    # The oracle moves at most 1% an update, and at most every 2.5 s.
    assert exchange.perp_deploy_set_oracle("pyd", {"pyd:PYD": "12.0"}, [], {})["status"] == "ok"
    _, ctxs = info.post("/info", {"type": "metaAndAssetCtxs", "dex": "pyd"})
    assert D(ctxs[0]["oraclePx"]) == D("10.1"), ctxs
    r = exchange.perp_deploy_set_oracle("pyd", {"pyd:PYD": "10.1"}, [], {})
    assert r["status"] == "err" and "2.5 seconds" in r["response"], r
    # Trading it: an SDK that knows the new dex, with collateral moved there.
    ex3 = Exchange(wallet, base_url, perp_dexs=DEXES + ["pyd"])
    info3 = Info(base_url, skip_ws=True, perp_dexs=DEXES + ["pyd"])
    assert info3.name_to_asset("pyd:PYD") == 120000
    assert ex3.send_asset(addr, "", "pyd", "USDC", 50)["status"] == "ok"
    book = info3.l2_snapshot("pyd:PYD")
    bid, ask = D(book["levels"][0][0]["px"]), D(book["levels"][1][0]["px"])
    assert "filled" in status0(ex3.order("pyd:PYD", True, 2, float(round(ask * D("1.01"), 3)), {"limit": {"tif": "Ioc"}}))
    assert "filled" in status0(ex3.order("pyd:PYD", False, 2, float(round(bid * D("0.99"), 3)), {"limit": {"tif": "Ioc"}}, reduce_only=True))
    assert "resting" in status0(ex3.order("pyd:PYD", True, 2, float(round(bid * D("0.9"), 3)), {"limit": {"tif": "Gtc"}}))
    ts = get_timestamp_ms()
    halt = {"type": "perpDeploy", "haltTrading": {"coin": "pyd:PYD", "isHalted": True}}
    assert ex3._post_action(halt, sign_l1_action(wallet, halt, None, ts, None, False), ts)["status"] == "ok"
    assert not [o for o in info3.open_orders(addr, "pyd")], "a halt cancels the market's orders"
    r = ex3.order("pyd:PYD", True, 2, float(round(ask, 3)), {"limit": {"tif": "Ioc"}})
    assert "halted" in r["response"]["data"]["statuses"][0]["error"], r
    idle = D(info3.user_state(addr, "pyd")["withdrawable"])
    assert ex3.send_asset(addr, "pyd", "", "USDC", float(idle))["status"] == "ok"


@check("validators: c_validator_register, delegating to it, c_validator_change_profile, c_signer_jail_self/unjail_self, c_validator_unregister")
def _():
    me = addr.lower()
    undelegated = D(info.user_staking_summary(addr)["undelegated"])
    r = exchange.c_validator_register("127.0.0.2", "py validator", "a test", False, 300, me, True, 10_000_000)
    assert r["status"] == "ok", r
    assert D(info.user_staking_summary(addr)["undelegated"]) == undelegated - D("0.1")
    vals = {v["validator"]: v for v in info.post("/info", {"type": "validatorSummaries"})}
    mine = vals[me]
    assert mine["name"] == "py validator" and mine["commission"] == "0.03" and mine["isActive"] and not mine["isJailed"], mine
    assert mine["stake"] == 10_000_000, mine
    # Another account delegates to it.
    friend = Account.create()
    f_ex = Exchange(friend, base_url, perp_dexs=DEXES)
    assert exchange.usd_transfer(50, friend.address)["status"] == "ok"
    assert exchange.spot_transfer(0.05, friend.address, "HYPE:" + [t for t in info.spot_meta()["tokens"] if t["name"] == "HYPE"][0]["tokenId"])["status"] == "ok"
    from hyperliquid.utils.signing import get_timestamp_ms, sign_user_signed_action
    ts = get_timestamp_ms()
    dep = {"type": "cDeposit", "wei": 5_000_000, "nonce": ts}
    sig = sign_user_signed_action(friend, dep, [{"name": "hyperliquidChain", "type": "string"},
        {"name": "wei", "type": "uint64"}, {"name": "nonce", "type": "uint64"}], "HyperliquidTransaction:CDeposit", False)
    assert f_ex._post_action(dep, sig, ts)["status"] == "ok"
    assert f_ex.token_delegate(me, 5_000_000, False)["status"] == "ok"
    assert info.user_staking_delegations(friend.address)[0]["validator"] == me
    # A commission rises only to at most 1%; lowering it is fine.
    r = exchange.c_validator_change_profile(None, None, None, False, None, 500, None)
    assert r["status"] == "err" and "1%" in r["response"], r
    assert exchange.c_validator_change_profile(None, "renamed", None, False, None, 100, None)["status"] == "ok"
    assert exchange.c_signer_jail_self()["status"] == "ok"
    v = {v["validator"]: v for v in info.post("/info", {"type": "validatorSummaries"})}[me]
    assert v["isJailed"] and not v["isActive"] and v["name"] == "renamed" and v["commission"] == "0.01", v
    assert exchange.c_signer_unjail_self()["status"] == "ok"
    assert exchange.c_validator_unregister()["status"] == "ok"
    assert me not in {v["validator"] for v in info.post("/info", {"type": "validatorSummaries"})}
    assert D(info.user_staking_summary(friend.address)["undelegated"]) == D("0.05"), "the delegation came back"
    assert D(info.user_staking_summary(addr)["undelegated"]) == undelegated


@check("multi-sig: convert_to_multi_sig_user, userToMultiSigSigners, multi_sig wrapping an order and a usdSend, back to normal")
def _():
    from hyperliquid.utils.signing import (
        CONVERT_TO_MULTI_SIG_USER_SIGN_TYPES, USD_SEND_SIGN_TYPES, get_timestamp_ms,
        sign_multi_sig_l1_action_payload, sign_multi_sig_user_signed_action_payload,
    )
    ms, a1, a2 = Account.create(), Account.create(), Account.create()
    for w in (ms, a1, a2):
        assert exchange.usd_transfer(100, w.address)["status"] == "ok"
    ms_ex, a1_ex = Exchange(ms, base_url, perp_dexs=DEXES), Exchange(a1, base_url, perp_dexs=DEXES)
    signers = sorted([a1.address.lower(), a2.address.lower()])
    r = ms_ex.convert_to_multi_sig_user([a1.address.lower(), a2.address.lower()], 2)
    assert r["status"] == "ok", r
    got = info.query_user_to_multi_sig_signers(ms.address)
    assert got == {"authorizedUsers": signers, "threshold": 2}, got
    assert info.query_user_to_multi_sig_signers(addr) is None
    r = ms_ex.usd_transfer(1, addr)
    assert r["status"] == "err" and "multiSig" in r["response"], r

    def l1(action, wallets):
        ts = get_timestamp_ms()
        sigs = [sign_multi_sig_l1_action_payload(w, action, False, None, ts, None, ms.address, a1.address) for w in wallets]
        return a1_ex.multi_sig(ms.address, action, sigs, ts)

    bid, ask = best("BTC")
    order = {"type": "order", "grouping": "na", "orders": [{"a": 0, "b": True, "p": str(int(ask * D("1.01"))),
             "s": "0.001", "r": False, "t": {"limit": {"tif": "Ioc"}}}]}
    r = l1(order, [a1])
    assert r["status"] == "err" and "1 of the 2" in r["response"], r
    r = l1(order, [a1, a2])
    assert "filled" in status0(r), r
    pos = info.user_state(ms.address)["assetPositions"][0]["position"]
    assert pos["coin"] == "BTC" and D(pos["szi"]) == D("0.001"), pos
    close = {"type": "order", "grouping": "na", "orders": [{"a": 0, "b": False, "p": str(int(bid * D("0.99"))),
             "s": "0.001", "r": True, "t": {"limit": {"tif": "Ioc"}}}]}
    assert "filled" in status0(l1(close, [a2, a1]))

    def user_signed(action, types, primary):
        sigs = [sign_multi_sig_user_signed_action_payload(w, action, False, types, primary, ms.address, a1.address)
                for w in (a1, a2)]
        return a1_ex.multi_sig(ms.address, action, sigs, action.get("nonce", action.get("time")))

    before = perp_value()
    ts = get_timestamp_ms()
    send = {"type": "usdSend", "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet",
            "destination": addr.lower(), "amount": "1", "time": ts}
    r = user_signed(send, USD_SEND_SIGN_TYPES, "HyperliquidTransaction:UsdSend")
    assert r["status"] == "ok", r
    assert perp_value() == before + 1
    ts = get_timestamp_ms()
    back = {"type": "convertToMultiSigUser", "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet",
            "signers": "null", "nonce": ts}
    r = user_signed(back, CONVERT_TO_MULTI_SIG_USER_SIGN_TYPES, "HyperliquidTransaction:ConvertToMultiSigUser")
    assert r["status"] == "ok", r
    assert info.query_user_to_multi_sig_signers(ms.address) is None
    assert ms_ex.usd_transfer(1, addr)["status"] == "ok", "a normal user again"


@check("money: perp value = ledger flows + closed PnL - fees + funding + unrealized")
def _():
    me = addr.lower()
    flows = D(0)
    kinds = set()
    for x in info.user_non_funding_ledger_updates(addr, 0):
        d = x["delta"]
        kinds.add(d["type"])
        t = d["type"]
        if t == "deposit":
            flows += D(d["usdc"])
        elif t == "withdraw":
            flows -= D(d["usdc"])
        elif t == "accountClassTransfer":
            flows += D(d["usdc"]) if d["toPerp"] else -D(d["usdc"])
        elif t == "send":
            # Perp USDC in or out: not between the account's own dexes, not a spot wallet's.
            if d["destination"] != d["user"]:
                into = d["destination"] == me and d["destinationDex"] != "spot"
                out = d["user"] == me and d["sourceDex"] != "spot"
                flows += D(d["amount"]) * (into - out)
        elif t in ("internalTransfer", "subAccountTransfer"):
            flows += D(d.get("usdc", d.get("amount"))) * ((d["destination"] == me) - (d["user"] == me))
        elif t in ("vaultCreate", "vaultDeposit"):
            flows -= D(d["usdc"])
        elif t == "vaultWithdraw":
            flows += D(d["netWithdrawnUsd"])
        elif t == "vaultDistribution":
            flows += D(d["usdc"])
    assert {"deposit", "withdraw", "accountClassTransfer", "internalTransfer", "subAccountTransfer",
            "vaultCreate", "vaultWithdraw", "spotTransfer"} <= kinds, kinds
    perp = [f for f in info.user_fills(addr) if "/" not in f["coin"] and not f["coin"].startswith("@")]
    closed, fees, funding, upnl, value = pnl_terms(perp)
    expected = flows + closed - fees + funding + upnl
    assert abs(value - expected) <= D("0.00001"), (value, expected, flows, closed, fees, funding, upnl)


print(json.dumps(results))
