// Drives the dashboard in headless Chromium (see dashboard-browser-check).
import { execFileSync } from "node:child_process";
import puppeteer from "puppeteer-core";

const [url, out] = process.argv.slice(2);
const origin = new URL(url).origin;
const fail = (why) => { console.error("FAILED: " + why); process.exit(1); };

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage();
const foreign = [];
const errors = [];
page.on("request", (r) => { if (!r.url().startsWith(origin)) foreign.push(r.url()); });
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));
await page.setViewport({ width: 1280, height: 900 });
await page.goto(url, { waitUntil: "domcontentloaded" });
await page.waitForFunction(() => document.body.dataset.version !== undefined, { timeout: 10000 });
const cards = await page.$$eval(".card", (cs) => cs.map((c) => c.dataset.session + ":" + c.className));
console.log("ok   page rendered " + cards.length + " session cards: " + cards.join(", "));
const first = await page.$eval(".card", (c) => c.className);
if (!first.includes("emergency") && !first.includes("stale") && !first.includes("silent") && !first.includes("waiting") && !first.includes("active")) {
  fail("the first card is not the one needing the most attention: " + first);
}

// A heartbeat from another coord process: the page must show it, live.
const target = "browser-check-" + Date.now();
const t0 = Date.now();
execFileSync(process.env.COORD, ["--hub", process.env.HUB, "-s", "carol", "heartbeat", "reviewing", target, "review", "70"], { env: process.env });
await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout: 5000 }, target)
  .catch(() => fail("the heartbeat did not reach the page within 5 s"));
console.log("ok   live update shown " + (Date.now() - t0) + " ms after the heartbeat (no reload)");

// An emergency: it goes to the top, and the sessions that have not
// acknowledged it come first.
execFileSync(process.env.COORD, ["--hub", process.env.HUB, "-s", "dave", "send", "broadcast", "staging DB is read-only", "--level", "emergency"], { env: process.env });
await page.waitForFunction(() => document.querySelector("#alerts .alert.emergency") !== null, { timeout: 5000 })
  .catch(() => fail("the emergency did not reach the page"));
const top = await page.$eval(".card", (c) => c.className);
if (!top.includes("emergency")) fail("the first card after an emergency is " + top);
console.log("ok   an emergency is shown first, and its unacknowledged sessions lead the cards");

if (foreign.length) fail("requests to other origins: " + foreign.join(", "));
console.log("ok   no request left " + origin);
if (errors.length) fail("console errors: " + errors.join(" | "));
console.log("ok   no console errors");
const emoji = await page.evaluate(() => /\p{Extended_Pictographic}/u.test(document.body.innerText));
if (emoji) fail("the page shows an emoji");

await page.screenshot({ path: out, fullPage: true });
console.log("ok   screenshot " + out);
await page.setViewport({ width: 390, height: 844, isMobile: true });
await new Promise((r) => setTimeout(r, 300));
const wide = await page.evaluate(() => document.documentElement.scrollWidth);
if (wide > 400) fail("the page is " + wide + " px wide at a phone's 390 px");
const phone = out.replace(/\.png$/, "-phone.png");
await page.screenshot({ path: phone, fullPage: false });
console.log("ok   phone width: no horizontal scroll; screenshot " + phone);
await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
await page.setViewport({ width: 1280, height: 900 });
const dark = out.replace(/\.png$/, "-dark.png");
await page.screenshot({ path: dark, fullPage: false });
console.log("ok   dark mode screenshot " + dark);
await browser.close();
console.log("all dashboard browser checks passed");
