// A check list: the TypeScript SDK @nktkas/hyperliquid (pinned in package.json), unmodified,
// against the strategy-host simulator, over HTTP and over the WebSocket (subscriptions, and
// info and actions through the `post` channel).
//
// Usage: node sdk_checklist.mjs BASE_URL PRIVATE_KEY
// Prints one JSON object {check: "ok" | "FAIL: why"}; tests/sdk_clients.rs requires every one to be
// "ok". Checks run in order and later ones build on earlier ones.
import * as hl from "@nktkas/hyperliquid";
import { SymbolConverter } from "@nktkas/hyperliquid/utils";
import { Wallet } from "ethers";
// Node 20 has no global WebSocket; the SDK takes any WHATWG-style one (`ws`, pinned).
import WebSocket from "ws";

const [baseUrl, key] = process.argv.slice(2);
const wallet = new Wallet(key);
const user = wallet.address.toLowerCase();
const http = new hl.HttpTransport({ isTestnet: true, apiUrl: baseUrl, timeout: 10_000 });
const info = new hl.InfoClient({ transport: http });
const exchange = new hl.ExchangeClient({ transport: http, wallet });
const wsUrl = baseUrl.replace(/^http/, "ws") + "/ws";
const ws = new hl.WebSocketTransport({ isTestnet: true, url: wsUrl, timeout: 10_000, reconnect: { WebSocket } });
const subs = new hl.SubscriptionClient({ transport: ws });
const wsInfo = new hl.InfoClient({ transport: ws });
const wsExchange = new hl.ExchangeClient({ transport: ws, wallet });

const results = {};
const state = {};

async function check(name, f) {
  try {
    await f();
    results[name] = "ok";
  } catch (e) {
    results[name] = `FAIL: ${e?.name ?? "Error"}: ${e?.message ?? e}`.slice(0, 600);
  }
}

function assert(cond, ...what) {
  if (!cond) throw new Error("assertion failed: " + JSON.stringify(what));
}

const num = (s) => typeof s === "string" && /^-?[0-9]+(\.[0-9]+)?$/.test(s);
/** A price on the venue's tick rule: 5 significant figures, as a string. */
const sig5 = (x) => String(Number(Number(x).toPrecision(5)));

async function best(coin) {
  const b = await info.l2Book({ coin });
  return [Number(b.levels[0][0].px), Number(b.levels[1][0].px)];
}

/** The first event of a subscription (after `act`, when given), then unsubscribes. */
async function hear(subscribe, act, ms = 10_000) {
  let done;
  const got = new Promise((r) => (done = r));
  const sub = await subscribe((e) => done(e));
  if (act) await act();
  const timer = new Promise((_, rej) => setTimeout(() => rej(new Error("no event in time")), ms));
  try {
    return await Promise.race([got, timer]);
  } finally {
    await sub.unsubscribe();
  }
}

let asset = {};

// --- market data ------------------------------------------------------------------------------

await check("info.meta", async () => {
  const m = await info.meta();
  assert(m.universe.some((a) => a.name === "BTC"), m);
  m.universe.forEach((a, i) => (asset[a.name] = i));
});

await check("info.perpDexs and the HIP-3 meta", async () => {
  const d = await info.perpDexs();
  assert(d[0] === null && d[1].name === "xyz", d);
  const m = await info.meta({ dex: "xyz" });
  assert(m.universe[0].name === "xyz:TSLA" && m.universe[0].onlyIsolated === true, m);
});

await check("info.spotMeta", async () => {
  const s = await info.spotMeta();
  assert(s.universe.length > 0 && s.universe[0].name === "PURR/USDC", s);
  assert(s.tokens[s.universe[0].tokens[0]].name === "PURR", s.tokens);
});

await check("SymbolConverter: names to asset ids (perp, HIP-3, spot)", async () => {
  const c = await SymbolConverter.create({ transport: http, dexs: ["xyz"] });
  assert(c.getAssetId("BTC") === asset.BTC, c.getAssetId("BTC"));
  assert(c.getAssetId("xyz:TSLA") === 110000, c.getAssetId("xyz:TSLA"));
  assert(c.getAssetId("PURR/USDC") === 10000, c.getAssetId("PURR/USDC"));
  assert(c.getSzDecimals("BTC") === 5, c.getSzDecimals("BTC"));
});

await check("info.metaAndAssetCtxs", async () => {
  const [meta, ctxs] = await info.metaAndAssetCtxs();
  assert(meta.universe.length === ctxs.length, ctxs);
  for (const c of ctxs) for (const k of ["funding", "openInterest", "oraclePx", "markPx"]) assert(num(c[k]), k, c);
});

await check("info.allMids", async () => {
  const mids = await info.allMids();
  const [bid, ask] = await best("BTC");
  assert(num(mids.BTC) && bid <= Number(mids.BTC) && Number(mids.BTC) <= ask, mids, bid, ask);
  assert(num(mids["PURR/USDC"]), mids);
});

await check("info.l2Book with nSigFigs", async () => {
  const b = await info.l2Book({ coin: "BTC", nSigFigs: 2 });
  for (const l of [...b.levels[0], ...b.levels[1]]) {
    assert(l.px.replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length <= 2, l);
  }
});

await check("info.fundingHistory", async () => {
  const now = Date.now();
  const h = await info.fundingHistory({ coin: "BTC", startTime: now - 5 * 3600_000 });
  assert(h.length >= 4 && h.every((x) => x.time % 3600_000 === 0 && num(x.fundingRate)), h);
});

await check("info over the WebSocket post channel", async () => {
  const m = await wsInfo.meta();
  assert(m.universe.some((a) => a.name === "BTC"), m);
});

await check("an unsupported info request is an error", async () => {
  try {
    await http.request("info", { type: "noSuchRequest" });
  } catch (e) {
    return;
  }
  throw new Error("no error");
});

// --- orders -------------------------------------------------------------------------------

const CLOID = "0x00000000000000000000000000000007";

await check("exchange.order Gtc rests", async () => {
  const [bid] = await best("BTC");
  const px = String(Math.floor(bid * 0.98));
  const r = await exchange.order({
    orders: [{ a: asset.BTC, b: true, p: px, s: "0.01", r: false, t: { limit: { tif: "Gtc" } }, c: CLOID }],
    grouping: "na",
  });
  state.oid = r.response.data.statuses[0].resting.oid;
  state.px = Number(px);
});

await check("info.openOrders and frontendOpenOrders", async () => {
  const o = (await info.openOrders({ user })).find((x) => x.oid === state.oid);
  assert(o && o.coin === "BTC" && o.side === "B" && o.sz === "0.01", o);
  const f = (await info.frontendOpenOrders({ user })).find((x) => x.oid === state.oid);
  assert(f.orderType === "Limit" && f.tif === "Gtc" && f.reduceOnly === false && f.isTrigger === false, f);
  assert(f.cloid === CLOID && Array.isArray(f.children) && f.triggerCondition === "N/A", f);
});

await check("info.orderStatus by oid and by cloid", async () => {
  const a = await info.orderStatus({ user, oid: state.oid });
  assert(a.status === "order" && a.order.status === "open", a);
  // Through the transport: this SDK version turns a hex cloid given as `oid` into a number
  // (its schema tries an integer first), which no venue could find.
  const b = await http.request("info", { type: "orderStatus", user, oid: CLOID });
  assert(b.status === "order" && b.order.order.oid === state.oid, b);
  assert((await info.orderStatus({ user, oid: 1 })).status === "unknownOid");
});

await check("exchange.modify", async () => {
  await exchange.modify({
    oid: state.oid,
    order: { a: asset.BTC, b: true, p: String(state.px - 10), s: "0.02", r: false, t: { limit: { tif: "Gtc" } }, c: CLOID },
  });
  const o = (await info.openOrders({ user })).find((x) => x.cloid === CLOID || x.limitPx === `${state.px - 10}.0`);
  assert(o && o.sz === "0.02", o);
  state.oid = o.oid;
});

await check("exchange.batchModify", async () => {
  const r = await exchange.batchModify({
    modifies: [{ oid: state.oid, order: { a: asset.BTC, b: true, p: String(state.px - 20), s: "0.02", r: false, t: { limit: { tif: "Gtc" } } } }],
  });
  state.oid = r.response.data.statuses[0].resting.oid;
});

await check("exchange.cancel", async () => {
  const r = await exchange.cancel({ cancels: [{ a: asset.BTC, o: state.oid }] });
  assert(r.response.data.statuses[0] === "success", r);
});

await check("exchange.cancelByCloid", async () => {
  const [bid] = await best("BTC");
  const c = "0x00000000000000000000000000000008";
  await exchange.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.floor(bid * 0.97)), s: "0.01", r: false, t: { limit: { tif: "Gtc" } }, c }],
    grouping: "na",
  });
  const r = await exchange.cancelByCloid({ cancels: [{ asset: asset.BTC, cloid: c }] });
  assert(r.response.data.statuses[0] === "success", r);
});

await check("exchange.order Ioc fills", async () => {
  const [, ask] = await best("BTC");
  const r = await exchange.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.ceil(ask * 1.01)), s: "0.01", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  const f = r.response.data.statuses[0].filled;
  assert(f.totalSz === "0.01" && num(f.avgPx), f);
});

await check("exchange.order over the WebSocket post channel", async () => {
  const [, ask] = await best("BTC");
  const r = await wsExchange.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.ceil(ask * 1.01)), s: "0.01", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  assert(r.response.data.statuses[0].filled.totalSz === "0.01", r);
});

await check("an order the venue refuses raises ApiRequestError", async () => {
  const [bid] = await best("BTC");
  try {
    await exchange.order({
      orders: [{ a: asset.BTC, b: true, p: String(Math.floor(bid * 0.9)), s: "0.0001", r: false, t: { limit: { tif: "Gtc" } } }],
      grouping: "na",
    });
  } catch (e) {
    assert(e instanceof hl.ApiRequestError && /minimum value of \$10/.test(e.message), e.message);
    return;
  }
  throw new Error("no error");
});

await check("exchange.updateLeverage and clearinghouseState", async () => {
  await exchange.updateLeverage({ asset: asset.BTC, isCross: true, leverage: 5 });
  const st = await info.clearinghouseState({ user });
  const p = st.assetPositions.find((x) => x.position.coin === "BTC").position;
  assert(p.leverage.type === "cross" && p.leverage.value === 5, p);
  assert(num(st.marginSummary.accountValue) && num(st.withdrawable), st);
});

await check("HIP-3: a new account's HIP-3 order needs collateral on its dex (sendAsset)", async () => {
  assert((await info.userAbstraction({ user })) === "default");
  assert((await info.userDexAbstraction({ user })) === null);
  const [, ask] = await best("xyz:TSLA");
  let refused = false;
  try {
    await exchange.order({
      orders: [{ a: 110000, b: true, p: sig5(ask * 1.01), s: "0.1", r: false, t: { limit: { tif: "Ioc" } } }],
      grouping: "na",
    });
  } catch (e) {
    assert(e instanceof hl.ApiRequestError && /Insufficient margin to place order/.test(e.message), e.message);
    refused = true;
  }
  assert(refused, "a HIP-3 order with no collateral on its dex was accepted");
  await exchange.sendAsset({ destination: user, sourceDex: "", destinationDex: "xyz", token: "USDC", amount: "100" });
  const x = await info.clearinghouseState({ user, dex: "xyz" });
  assert(Number(x.withdrawable) === 100 && Number(x.marginSummary.accountValue) === 100, x);
});

await check("exchange.updateIsolatedMargin on a HIP-3 market", async () => {
  const [, ask] = await best("xyz:TSLA");
  await exchange.order({
    orders: [{ a: 110000, b: true, p: sig5(ask * 1.01), s: "0.1", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  const before = (await info.clearinghouseState({ user, dex: "xyz" })).assetPositions[0].position;
  assert(before.leverage.type === "isolated", before);
  await exchange.updateIsolatedMargin({ asset: 110000, isBuy: true, ntli: 5_000_000 });
  const after = (await info.clearinghouseState({ user, dex: "xyz" })).assetPositions[0].position;
  assert(Number(after.marginUsed) - Number(before.marginUsed) === 5, before, after);
  assert(Number(after.liquidationPx) < Number(before.liquidationPx), before, after);
});

await check("exchange.order trigger (tp/sl, positionTpsl)", async () => {
  const [bid, ask] = await best("BTC");
  const r = await exchange.order({
    orders: [
      { a: asset.BTC, b: false, p: String(Math.floor(bid * 0.5)), s: "0", r: true, t: { trigger: { isMarket: true, triggerPx: String(Math.floor(bid * 0.9)), tpsl: "sl" } } },
      { a: asset.BTC, b: false, p: String(Math.ceil(ask * 1.1)), s: "0", r: true, t: { trigger: { isMarket: false, triggerPx: String(Math.ceil(ask * 1.1)), tpsl: "tp" } } },
    ],
    grouping: "positionTpsl",
  });
  const oids = r.response.data.statuses.map((s) => s.resting.oid);
  const f = (await info.frontendOpenOrders({ user })).filter((o) => oids.includes(o.oid));
  assert(f.length === 2 && f.every((o) => o.isTrigger && o.isPositionTpsl), f);
  assert(f.some((o) => o.orderType === "Stop Market") && f.some((o) => o.orderType === "Take Profit Limit"), f);
  await exchange.cancel({ cancels: oids.map((o) => ({ a: asset.BTC, o })) });
});

await check("exchange.scheduleCancel and noop", async () => {
  await exchange.scheduleCancel({ time: Date.now() + 60_000 });
  await exchange.scheduleCancel();
  await exchange.noop();
});

// --- history ------------------------------------------------------------------------------

await check("info.userFills and userFillsByTime", async () => {
  const fills = await info.userFills({ user });
  assert(fills.length >= 2 && fills.every((f) => num(f.px) && num(f.sz) && num(f.fee) && num(f.closedPnl)), fills[0]);
  const byTime = await info.userFillsByTime({ user, startTime: 0 });
  assert(byTime.length === fills.length, byTime.length, fills.length);
});

await check("money: sum of fills = position", async () => {
  const fills = await info.userFills({ user });
  for (const dex of ["", "xyz"]) {
    for (const { position: p } of (await info.clearinghouseState({ user, dex })).assetPositions) {
      const sum = fills.filter((f) => f.coin === p.coin).reduce((s, f) => s + (f.side === "B" ? 1 : -1) * Number(f.sz), 0);
      assert(Math.abs(sum - Number(p.szi)) < 1e-9, p, sum);
    }
  }
});

await check("info.historicalOrders", async () => {
  const h = await info.historicalOrders({ user });
  assert(h.some((x) => x.status === "filled") && h.some((x) => x.status === "canceled"), h.map((x) => x.status));
});

await check("info.userFees, userFunding, userRateLimit", async () => {
  const fees = await info.userFees({ user });
  assert(num(fees.userCrossRate) && num(fees.userAddRate), fees);
  assert(Array.isArray(await info.userFunding({ user, startTime: 0 })));
  const rl = await info.userRateLimit({ user });
  assert(rl.nRequestsUsed > 0 && rl.nRequestsCap >= 10000, rl);
});

await check("info.candleSnapshot", async () => {
  const c = await info.candleSnapshot({ coin: "BTC", interval: "1m", startTime: Date.now() - 3600_000 });
  assert(c.length >= 1 && c.every((k) => k.s === "BTC" && k.i === "1m" && num(k.o) && num(k.v)), c);
});

// --- spot, transfers, sub-accounts, agents ------------------------------------------------

await check("exchange.usdClassTransfer and spotClearinghouseState", async () => {
  await exchange.usdClassTransfer({ amount: "100", toPerp: false });
  const b = (await info.spotClearinghouseState({ user })).balances.find((x) => x.coin === "USDC");
  assert(b && b.total === "100.0" && b.token === 0, b);
});

await check("exchange.order spot buy and the wallet", async () => {
  const [, ask] = await best("PURR/USDC");
  const r = await exchange.order({
    orders: [{ a: 10000, b: true, p: sig5(ask * 1.01), s: "100", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  assert(r.response.data.statuses[0].filled.totalSz === "100.0", r.response.data.statuses);
  const fill = (await info.userFills({ user })).find((f) => f.coin === "PURR/USDC");
  assert(fill.dir === "Buy" && fill.feeToken === "PURR", fill);
  const purr = (await info.spotClearinghouseState({ user })).balances.find((x) => x.coin === "PURR");
  assert(Math.abs(Number(purr.total) - (100 - Number(fill.fee))) < 1e-9, purr, fill);
});

await check("info.spotMetaAndAssetCtxs", async () => {
  const [meta, ctxs] = await info.spotMetaAndAssetCtxs();
  assert(meta.universe[0].name === ctxs[0].coin && num(ctxs[0].markPx) && Number(ctxs[0].dayNtlVlm) > 0, ctxs[0]);
});

await check("exchange.createSubAccount, subAccountTransfer, info.subAccounts", async () => {
  const r = await exchange.createSubAccount({ name: "ts-alpha" });
  const sub = r.response.data;
  await exchange.subAccountTransfer({ subAccountUser: sub, isDeposit: true, usd: 250_000_000 });
  const s = (await info.subAccounts({ user })).find((x) => x.name === "ts-alpha");
  assert(s.subAccountUser === sub && s.master === user, s);
  assert(s.clearinghouseState.marginSummary.accountValue === "250.0", s.clearinghouseState);
  state.sub = sub;
});

await check("exchange with vaultAddress trades the sub-account", async () => {
  const asSub = new hl.ExchangeClient({ transport: http, wallet, defaultVaultAddress: state.sub });
  const [, ask] = await best("BTC");
  await asSub.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.ceil(ask * 1.01)), s: "0.001", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  const p = (await info.clearinghouseState({ user: state.sub })).assetPositions[0].position;
  assert(p.coin === "BTC" && p.szi === "0.001", p);
});

await check("exchange.approveAgent: the agent trades for the account", async () => {
  const agent = Wallet.createRandom();
  await exchange.approveAgent({ agentAddress: agent.address, agentName: "ts-bot" });
  const asAgent = new hl.ExchangeClient({ transport: http, wallet: agent });
  const [bid] = await best("BTC");
  const r = await asAgent.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.floor(bid * 0.97)), s: "0.001", r: false, t: { limit: { tif: "Gtc" } } }],
    grouping: "na",
  });
  const oid = r.response.data.statuses[0].resting.oid;
  assert((await info.openOrders({ user })).some((o) => o.oid === oid), oid);
  await asAgent.cancel({ cancels: [{ a: asset.BTC, o: oid }] });
});

await check("exchange.createVault, vaultTransfer, info.vaultDetails and userVaultEquities", async () => {
  const r = await exchange.createVault({ name: "ts-vault", description: "a simulated vault", initialUsd: 150_000_000, nonce: Date.now() });
  const vault = r.response.data;
  await exchange.vaultTransfer({ vaultAddress: vault, isDeposit: true, usd: 50_000_000 });
  const eq = (await info.userVaultEquities({ user })).find((x) => x.vaultAddress === vault);
  assert(eq && eq.equity === "200.0", eq);
  const d = await info.vaultDetails({ vaultAddress: vault, user });
  assert(d.leader === user && d.followers.length === 1 && d.followers[0].user === "Leader", d);
  assert(d.followerState.vaultEquity === "200.0" && d.leaderFraction === 1, d.followerState);
  const asVault = new hl.ExchangeClient({ transport: http, wallet, defaultVaultAddress: vault });
  const [bid] = await best("BTC");
  const o = await asVault.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.floor(bid * 0.97)), s: "0.001", r: false, t: { limit: { tif: "Gtc" } } }],
    grouping: "na",
  });
  const oid = o.response.data.statuses[0].resting.oid;
  assert((await info.openOrders({ user: vault })).some((x) => x.oid === oid), "the vault's order");
});

await check("exchange.twapOrder, twapCancel, info.twapHistory, userTwapSliceFills, ws userTwapHistory", async () => {
  const r = await exchange.twapOrder({ twap: { a: asset.BTC, b: true, s: "0.01", r: false, m: 5, t: false } });
  const id = r.response.data.status.running.twapId;
  const slices = (await info.userTwapSliceFills({ user })).filter((x) => x.twapId === id);
  assert(slices.length === 1 && slices[0].fill.twapId === id, slices);
  const snap = await hear((cb) => subs.userTwapHistory({ user }, cb));
  assert(snap.isSnapshot === true && snap.history.some((x) => x.twapId === id), snap);
  const states = await hear((cb) => subs.twapStates({ user }, cb));
  assert(states.states.some(([tid, st]) => tid === id && st.executedSz === "0.001"), states);
  const c = await exchange.twapCancel({ a: asset.BTC, t: id });
  assert(c.response.data.status === "success", c);
  const h = (await info.twapHistory({ user })).filter((x) => x.twapId === id);
  assert(h.map((x) => x.status.status).join() === "activated,terminated", h);
});

await check("approveBuilderFee, maxBuilderFee, withdraw3, userNonFundingLedgerUpdates, userRole, extraAgents, portfolio", async () => {
  const builder = "0x00000000000000000000000000000000000b0b01";
  await exchange.approveBuilderFee({ maxFeeRate: "0.01%", builder });
  assert((await info.maxBuilderFee({ user, builder })) === 10);
  await exchange.withdraw3({ destination: user, amount: "3" });
  const ledger = await info.userNonFundingLedgerUpdates({ user, startTime: 0 });
  const kinds = new Set(ledger.map((x) => x.delta.type));
  for (const k of ["deposit", "accountClassTransfer", "subAccountTransfer", "vaultCreate", "vaultDeposit", "withdraw"]) {
    assert(kinds.has(k), k, [...kinds]);
  }
  assert((await info.userRole({ user })).role === "user");
  const sub = await info.userRole({ user: state.sub });
  assert(sub.role === "subAccount" && sub.data.master === user, sub);
  assert((await info.extraAgents({ user })).some((a) => a.name === "ts-bot"));
  const p = await info.portfolio({ user });
  assert(p.length === 8 && p[3][0] === "allTime" && p[3][1].accountValueHistory.length >= 1, p);
});

// --- WebSocket subscriptions ----------------------------------------------------------------

const takeAsk = async () => {
  const [, ask] = await best("BTC");
  await exchange.order({
    orders: [{ a: asset.BTC, b: true, p: String(Math.ceil(ask * 1.01)), s: "0.001", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
};

await check("ws bbo", async () => {
  const e = await hear((cb) => subs.bbo({ coin: "BTC" }, cb));
  assert(e.coin === "BTC" && Number(e.bbo[0].px) < Number(e.bbo[1].px), e);
});

await check("ws l2Book (and nSigFigs)", async () => {
  const e = await hear((cb) => subs.l2Book({ coin: "BTC" }, cb));
  assert(e.coin === "BTC" && e.levels[0].length > 0, e);
  const c = await hear((cb) => subs.l2Book({ coin: "BTC", nSigFigs: 3 }, cb));
  assert(c.levels[0].length > 0, c);
});

await check("ws activeAssetCtx and activeSpotAssetCtx", async () => {
  const e = await hear((cb) => subs.activeAssetCtx({ coin: "BTC" }, cb));
  assert(e.coin === "BTC" && num(e.ctx.markPx) && num(e.ctx.funding), e);
  const s = await hear((cb) => subs.activeSpotAssetCtx({ coin: "PURR/USDC" }, cb));
  assert(s.coin === "PURR/USDC" && num(s.ctx.markPx) && s.ctx.funding === undefined, s);
});

await check("ws allMids", async () => {
  const e = await hear((cb) => subs.allMids(cb));
  assert(num(e.mids.BTC), e);
});

await check("ws trades", async () => {
  const e = await hear((cb) => subs.trades({ coin: "BTC" }, cb), takeAsk);
  assert(e[0].coin === "BTC" && e[0].users.length === 2, e);
});

await check("ws candle", async () => {
  const e = await hear((cb) => subs.candle({ coin: "BTC", interval: "1m" }, cb), takeAsk);
  assert(e.s === "BTC" && e.i === "1m" && num(e.c), e);
});

await check("ws orderUpdates", async () => {
  const e = await hear((cb) => subs.orderUpdates({ user }, cb), takeAsk);
  assert(e.some((u) => u.status === "filled" && u.order.sz === "0.0"), e);
});

await check("ws userFills snapshot", async () => {
  const e = await hear((cb) => subs.userFills({ user }, cb));
  assert(e.isSnapshot === true && e.fills.length > 0, e.isSnapshot);
});

await check("ws userEvents", async () => {
  const e = await hear((cb) => subs.userEvents({ user }, cb), takeAsk);
  assert("fills" in e, e);
});

await check("ws userFundings snapshot", async () => {
  const e = await hear((cb) => subs.userFundings({ user }, cb));
  assert(e.isSnapshot === true && Array.isArray(e.fundings), e);
});

await check("ws webData2", async () => {
  const e = await hear((cb) => subs.webData2({ user }, cb));
  assert(e.clearinghouseState && Array.isArray(e.openOrders), Object.keys(e));
});

await check("info.activeAssetData, predictedFundings, recentTrades", async () => {
  const d = await info.activeAssetData({ user, coin: "BTC" });
  assert(d.coin === "BTC" && d.leverage.type === "cross" && d.leverage.value === 5, d);
  assert(Number(d.maxTradeSzs[0]) > 0 && num(d.availableToTrade[0]) && num(d.markPx), d);
  const p = await info.predictedFundings();
  const btc = p.find(([c]) => c === "BTC");
  assert(btc && btc[1][0][1].nextFundingTime % 3600_000 === 0 && num(btc[1][0][1].fundingRate), p);
  const t = await info.recentTrades({ coin: "BTC" });
  assert(t.length > 0 && t.every((x) => x.coin === "BTC" && x.users.length === 2), t);
});

await check("ws openOrders, clearinghouseState, spotState, activeAssetData", async () => {
  const o = await hear((cb) => subs.openOrders({ user }, cb));
  assert(o.user === user && o.dex === "" && Array.isArray(o.orders), o);
  const c = await hear((cb) => subs.clearinghouseState({ user, dex: "xyz" }, cb));
  assert(c.dex === "xyz" && c.clearinghouseState.assetPositions[0].position.coin === "xyz:TSLA", c);
  const sp = await hear((cb) => subs.spotState({ user }, cb));
  assert(sp.spotState.balances.some((b) => b.coin === "PURR"), sp);
  const a = await hear((cb) => subs.activeAssetData({ user, coin: "BTC" }, cb));
  assert(a.coin === "BTC" && a.leverage.value === 5, a);
});

await check("vaultModify, vaultDistribute, leadingVaults, subAccountModify, reserveRequestWeight", async () => {
  const r = await exchange.createVault({ name: "ts-vault-2", description: "a second simulated vault", initialUsd: 100_000_000, nonce: Date.now() });
  const vault = r.response.data;
  await exchange.vaultModify({ vaultAddress: vault, allowDeposits: false, alwaysCloseOnWithdraw: null });
  const d = await info.vaultDetails({ vaultAddress: vault });
  assert(d.allowDeposits === false && d.alwaysCloseOnWithdraw === false, d.allowDeposits, d.alwaysCloseOnWithdraw);
  assert((await info.leadingVaults({ user })).some((v) => v.address === vault && v.name === "ts-vault-2"));
  const before = Number((await info.clearinghouseState({ user })).withdrawable);
  await exchange.vaultDistribute({ vaultAddress: vault, usd: 10_000_000 });
  const eq = (await info.userVaultEquities({ user })).find((x) => x.vaultAddress === vault);
  assert(eq.equity === "90.0", eq);
  const ledger = await info.userNonFundingLedgerUpdates({ user, startTime: 0 });
  assert(ledger.some((x) => x.delta.type === "vaultDistribution" && x.delta.usdc === "10.0"), "the distribution is in the ledger");
  await exchange.subAccountModify({ subAccountUser: state.sub, name: "ts-renamed" });
  assert((await info.subAccounts({ user })).some((x) => x.name === "ts-renamed"));
  const cap = (await info.userRateLimit({ user })).nRequestsCap;
  await exchange.reserveRequestWeight({ weight: 1000 });
  assert((await info.userRateLimit({ user })).nRequestsCap === cap + 1000, cap);
  assert(Number((await info.clearinghouseState({ user })).withdrawable) < before + 10, before);
});

await check("ws assetCtxs, allDexsAssetCtxs, allDexsClearinghouseState", async () => {
  const a = await hear((cb) => subs.assetCtxs({ dex: "xyz" }, cb));
  assert(a.dex === "xyz" && a.ctxs.length === 1 && num(a.ctxs[0].markPx), a);
  const all = await hear((cb) => subs.allDexsAssetCtxs(cb));
  assert(all.ctxs.map(([d]) => d).join() === ",xyz", all.ctxs.map(([d]) => d));
  const st = await hear((cb) => subs.allDexsClearinghouseState({ user }, cb));
  assert(st.clearinghouseStates.length === 2 && st.clearinghouseStates[1][0] === "xyz", st);
});

await check("info.allPerpMetas, marginTable, perpsAtOpenInterestCap, exchangeStatus, approvedBuilders, preTransferCheck, legalCheck", async () => {
  const metas = await info.allPerpMetas();
  assert(metas.length === 2 && metas[1].universe[0].name === "xyz:TSLA" && metas[1].universe[0].marginMode === "strictIsolated", metas);
  const id = metas[0].universe[0].marginTableId;
  assert(metas[0].marginTables.some(([t]) => t === id), metas[0].marginTables);
  const t = await info.marginTable({ id });
  assert(t.marginTiers[0].maxLeverage === id && t.marginTiers[0].lowerBound === "0.0", t);
  assert(Array.isArray(await info.perpsAtOpenInterestCap()));
  assert((await info.exchangeStatus()).time > 0);
  assert((await info.approvedBuilders({ user })).includes("0x00000000000000000000000000000000000b0b01"));
  const p = await info.preTransferCheck({ user: "0x00000000000000000000000000000000000c0ffe", source: user });
  assert(p.userExists === false && p.isSanctioned === false, p);
  assert((await info.legalCheck({ user })).userAllowed === true);
});

await check("setDisplayName, topUpIsolatedOnlyMargin, perpDexStatus, vaultSummaries, ws webData3", async () => {
  await exchange.setDisplayName({ displayName: "ts-checks" });
  const before = (await info.clearinghouseState({ user, dex: "xyz" })).assetPositions[0].position;
  await exchange.topUpIsolatedOnlyMargin({ asset: 110000, leverage: "2" });
  const after = (await info.clearinghouseState({ user, dex: "xyz" })).assetPositions[0].position;
  const lev = Number(after.positionValue) / Number(after.marginUsed);
  assert(Number(after.marginUsed) > Number(before.marginUsed) && Math.abs(lev - 2) < 0.05, before, after);
  const st = await info.perpDexStatus({ dex: "xyz" });
  assert(Number(st.totalNetDeposit) >= Number(after.marginUsed), st);
  const vs = await info.vaultSummaries();
  assert(vs.some((v) => v.name === "ts-vault" && v.leader === user && num(v.tvl)), vs);
  const w = await hear((cb) => subs.webData3({ user }, cb));
  assert(w.userState.user === user && w.userState.isVault === false && w.perpDexStates.length === 2, w);
  assert(w.userState.agentAddress !== null && num(w.userState.cumLedger), w.userState);
});

await check("staking: buy HYPE, cDeposit, tokenDelegate (locked a day), cWithdraw (7 days), the delegator requests", async () => {
  const c = await SymbolConverter.create({ transport: http });
  const hype = c.getAssetId("HYPE/USDC");
  assert(hype === 10001, hype);
  const [, ask] = await best("@1");
  await exchange.order({ orders: [{ a: hype, b: true, p: sig5(ask * 1.01), s: "1", r: false, t: { limit: { tif: "Ioc" } } }], grouping: "na" });
  await exchange.cDeposit({ wei: 50_000_000 });
  const [validator] = await info.validatorSummaries();
  await exchange.tokenDelegate({ validator: validator.validator, wei: 30_000_000, isUndelegate: false });
  const sum = await info.delegatorSummary({ user });
  assert(sum.delegated === "0.3" && sum.undelegated === "0.2", sum);
  const d = await info.delegations({ user });
  assert(d[0].validator === validator.validator && d[0].lockedUntilTimestamp > Date.now() + 86_000_000, d);
  try {
    await exchange.tokenDelegate({ validator: validator.validator, wei: 10_000_000, isUndelegate: true });
    throw new Error("undelegated inside the lockup");
  } catch (e) {
    assert(e instanceof hl.ApiRequestError && /locked/.test(e.message), e.message);
  }
  await exchange.cWithdraw({ wei: 20_000_000 });
  const after = await info.delegatorSummary({ user });
  assert(after.nPendingWithdrawals === 1 && after.totalPendingWithdrawal === "0.2" && after.undelegated === "0.0", after);
  const h = await info.delegatorHistory({ user });
  assert(h.length === 3 && "withdrawal" in h[0].delta && h[0].delta.withdrawal.phase === "initiated", h);
  assert((await info.validatorSummaries())[0].stake >= 30_000_000);
});

await check("abstraction: agentEnableDexAbstraction, agentSetAbstraction, userDexAbstraction, userSetAbstraction", async () => {
  const modes = async () => [await info.userAbstraction({ user }), await info.userDexAbstraction({ user })];
  await exchange.agentEnableDexAbstraction();
  let m = await modes();
  assert(m[0] === "dexAbstraction" && m[1] === true, m);
  await exchange.agentSetAbstraction({ abstraction: "i" });
  m = await modes();
  assert(m[0] === "disabled" && m[1] === false, m);
  await exchange.userDexAbstraction({ user, enabled: true });
  assert((await modes())[0] === "dexAbstraction");
  await exchange.userSetAbstraction({ user, abstraction: "disabled" });
  assert((await modes())[0] === "disabled");
});

await check("info.webData2, subAccounts2, userTwapSliceFillsByTime, tokenDetails, and the empty lists", async () => {
  const w = await info.webData2({ user });
  const st = await info.clearinghouseState({ user });
  assert(w.clearinghouseState.marginSummary.accountValue !== undefined && Array.isArray(w.openOrders), w);
  assert(w.meta.universe[0].name === "BTC" && w.assetCtxs.length === w.meta.universe.length, w.meta);
  assert(w.isVault === false && num(w.cumLedger) && Number(w.cumLedger) !== 0 && w.agentAddress !== undefined, w);
  assert(st.assetPositions.length === w.clearinghouseState.assetPositions.length, st, w.clearinghouseState);
  const subs = await info.subAccounts2({ user });
  const s = subs.find((x) => x.name === "ts-renamed");
  assert(s && s.dexToClearinghouseState.map(([d]) => d).join() === ",xyz" && s.spotState.balances, s);
  const slices = await info.userTwapSliceFills({ user });
  const t0 = Math.min(...slices.map((x) => x.fill.time));
  const byTime = await info.userTwapSliceFillsByTime({ user, startTime: t0 });
  assert(slices.length > 0 && byTime.length === slices.length && byTime[0].fill && byTime[0].twapId !== undefined, byTime);
  assert((await info.userTwapSliceFillsByTime({ user, startTime: Date.now() + 60_000 })).length === 0);
  const spot = await info.spotMeta();
  const hype = spot.tokens.find((t) => t.name === "HYPE");
  const d = await info.tokenDetails({ tokenId: hype.tokenId });
  const bal = (await info.spotClearinghouseState({ user })).balances.find((b) => b.coin === "HYPE");
  const staked = await info.delegatorSummary({ user });
  const mine = Number(bal ? bal.total : 0) + Number(staked.delegated) + Number(staked.undelegated) + Number(staked.totalPendingWithdrawal);
  assert(d.name === "HYPE" && d.weiDecimals === hype.weiDecimals && Number(d.totalSupply) >= mine && mine > 0 && num(d.midPx), d, mine);
  assert((await info.isVip({ user })) === null);
  assert((await info.perpAnnotation({ coin: "BTC" })) === null);
  for (const list of [info.liquidatable(), info.perpCategories(), info.perpConciseAnnotations(), info.validatorL1Votes(), info.gossipRootIps()]) {
    const v = await list;
    assert(Array.isArray(v) && v.length === 0, v);
  }
});

await check("explorer: userDetails, txDetails, blockDetails (every signed action a transaction, every tick a block)", async () => {
  const rpc = new hl.HttpTransport({ isTestnet: true, apiUrl: baseUrl, rpcUrl: baseUrl, timeout: 10_000 });
  const explorer = new hl.InfoClient({ transport: rpc });
  const u = await explorer.userDetails({ user });
  assert(u.type === "userDetails" && u.txs.length > 10, u.txs.length);
  const order = u.txs.find((t) => t.action.type === "order");
  assert(order && order.user === user && /^0x[0-9a-f]{64}$/.test(order.hash) && order.block > 0 && order.error === null, order);
  assert(u.txs.every((t, i) => i === 0 || t.time <= u.txs[i - 1].time), "newest first");
  const t = await explorer.txDetails({ hash: order.hash });
  assert(t.type === "txDetails" && t.tx.hash === order.hash && JSON.stringify(t.tx.action) === JSON.stringify(order.action), t);
  const b = await explorer.blockDetails({ height: order.block });
  const d = b.blockDetails;
  assert(d.height === order.block && d.numTxs === d.txs.length && d.txs.some((x) => x.hash === order.hash), d);
  assert(d.blockTime >= order.time && /^0x[0-9a-f]{64}$/.test(d.hash), d);
});

await check("multi-sig: convertToMultiSigUser, userToMultiSigSigners, a multi-sig ExchangeClient's order and usdSend, back to normal", async () => {
  const [ms, a1, a2] = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
  for (const w of [ms, a1, a2]) await exchange.usdSend({ destination: w.address.toLowerCase(), amount: "100" });
  const own = new hl.ExchangeClient({ transport: http, wallet: ms });
  await own.convertToMultiSigUser({ signers: { authorizedUsers: [a1.address.toLowerCase(), a2.address.toLowerCase()], threshold: 2 } });
  const got = await info.userToMultiSigSigners({ user: ms.address.toLowerCase() });
  const want = [a1.address.toLowerCase(), a2.address.toLowerCase()].sort();
  assert(got && got.threshold === 2 && got.authorizedUsers.join() === want.join(), got);
  let refused = false;
  try {
    await own.usdSend({ destination: user, amount: "1" });
  } catch (e) {
    assert(e instanceof hl.ApiRequestError && /multiSig/.test(e.message), e.message);
    refused = true;
  }
  assert(refused, "the multi-sig user's own signature was accepted");
  const multi = new hl.ExchangeClient({ transport: http, signers: [a1, a2], multiSigUser: ms.address.toLowerCase() });
  const [, ask] = await best("BTC");
  const r = await multi.order({
    orders: [{ a: 0, b: true, p: sig5(ask * 1.01), s: "0.001", r: false, t: { limit: { tif: "Ioc" } } }],
    grouping: "na",
  });
  assert(r.response.data.statuses[0].filled, r);
  const pos = (await info.clearinghouseState({ user: ms.address.toLowerCase() })).assetPositions[0].position;
  assert(pos.coin === "BTC" && Number(pos.szi) === 0.001, pos);
  await multi.usdSend({ destination: user, amount: "1" });
  await multi.convertToMultiSigUser({ signers: null });
  assert((await info.userToMultiSigSigners({ user: ms.address.toLowerCase() })) === null);
  await own.usdSend({ destination: user, amount: "1" });
});

await check("evmUserModify is accepted (HyperEVM itself is not simulated)", async () => {
  const r = await exchange.evmUserModify({ usingBigBlocks: true });
  assert(r.status === "ok", r);
  await exchange.evmUserModify({ usingBigBlocks: false });
});

await check("ws an unknown coin is refused", async () => {
  try {
    await subs.bbo({ coin: "NOPE" }, () => {});
  } catch (e) {
    assert(/Invalid subscription/.test(e.message), e.message);
    return;
  }
  throw new Error("subscribed to an unknown coin");
});

await ws.close();
console.log(JSON.stringify(results));
process.exit(0);
