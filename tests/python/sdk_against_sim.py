"""The official Hyperliquid Python SDK, an independent client, against the strategy-host simulator.

Usage: python3 sdk_against_sim.py BASE_URL PRIVATE_KEY
Prints one JSON object with what the SDK saw; the Rust test (tests/sdk_clients.rs) checks it.
"""
import json
import sys
import threading

from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

base_url, key = sys.argv[1], sys.argv[2]
wallet = Account.from_key(key)
out = {"address": wallet.address.lower()}

# Market data over HTTP: the constructor asks spotMeta, perpDexs and meta per dex.
info = Info(base_url, skip_ws=True, perp_dexs=["", "xyz"])
out["meta"] = [a["name"] for a in info.meta()["universe"]]
out["hip3_asset"] = info.name_to_asset("xyz:TSLA")
book = info.l2_snapshot("BTC")
best_bid, best_ask = float(book["levels"][0][0]["px"]), float(book["levels"][1][0]["px"])
out["bbo"] = [best_bid, best_ask]

# Market data over the WebSocket.
ws_info = Info(base_url, skip_ws=False)
got = threading.Event()
frames = []
def on_bbo(msg):
    frames.append(msg)
    got.set()
ws_info.subscribe({"type": "bbo", "coin": "BTC"}, on_bbo)
out["ws_bbo"] = got.wait(10) and frames[0]["channel"] == "bbo"
ws_info.disconnect_websocket()

# Orders, signed by the SDK (testnet phantom agent for a non-mainnet URL).
exchange = Exchange(wallet, base_url, perp_dexs=["", "xyz"])
rest_px = float(int(best_bid * 0.98))
resting = exchange.order("BTC", True, 0.01, rest_px, {"limit": {"tif": "Gtc"}})
out["resting"] = resting
oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]
out["cancel"] = exchange.cancel("BTC", oid)
out["ioc"] = exchange.order("BTC", True, 0.01, float(int(best_ask * 1.01)), {"limit": {"tif": "Ioc"}})
out["too_small"] = exchange.order("BTC", True, 0.0001, float(int(best_ask * 1.01)), {"limit": {"tif": "Ioc"}})
state = info.user_state(wallet.address)
out["position"] = state["assetPositions"][0]["position"]["szi"] if state["assetPositions"] else "0"
print(json.dumps(out))
