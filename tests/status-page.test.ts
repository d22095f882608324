/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core): it renders
 * every region, its buttons change the sandbox, a refused change shows the safety rule's
 * message, and changes made elsewhere appear without a reload.
 *
 * Without a browser the suite is reported as pending, with the command that installs one, so
 * `npm test` passes on a machine with only Node.js and Java; with `REQUIRE_BROWSER=1` (`.ci/run`
 * sets it) a missing browser fails the run instead.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_ARGS } from "../tools/capture-status-page";
import { eventually, http, useSandbox } from "./support/sandbox";

/** How to get the browser this suite drives (Debian's package; `.ci/run` runs it). */
export const INSTALL_BROWSER = "apt-get install chromium";

/** Executable names Debian and other distributions give Chromium, looked up on PATH. */
const CHROMIUM_NAMES = ["chromium", "chromium-browser"];

/**
 * The Chromium to drive: `CHROMIUM_PATH` when set (exactly that file: set it to a path that does
 * not exist to run the suite as on a machine without a browser), else the first of
 * CHROMIUM_NAMES on PATH; undefined when there is none.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env.CHROMIUM_PATH;
  if (override !== undefined && override !== "") return existsSync(override) ? override : undefined;
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** True when the run must have a browser (`.ci/run` sets REQUIRE_BROWSER=1). */
export function browserRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return ["1", "true", "yes"].includes((env.REQUIRE_BROWSER ?? "").trim().toLowerCase());
}

const EAST = "us-east-1";
const WEST = "us-west-2";

describe("status page (headless Chromium)", function () {
  this.timeout(30_000);
  let executablePath = "";

  // First, so that without a browser no sandbox is started only to be stopped again.
  before(function () {
    const found = findChromium();
    if (found !== undefined) {
      executablePath = found;
      return;
    }
    const where = process.env.CHROMIUM_PATH
      ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`
      : `no ${CHROMIUM_NAMES.join(" or ")} on PATH`;
    const reason = `no browser (${where}): install one with \`${INSTALL_BROWSER}\`, or set CHROMIUM_PATH`;
    if (browserRequired()) throw new Error(`REQUIRE_BROWSER is set but there is ${reason}`);
    // The summary reporter prints this reason next to the pending tests.
    Object.assign(this.test?.parent ?? {}, { pendingReason: reason });
    this.skip();
  });

  const { sandbox } = useSandbox();
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    this.timeout(60_000);
    browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(sandbox().urls.status);
  });

  after(async function () {
    await browser?.close();
  });

  const card = (region: string) => page.locator(`.region[data-region="${region}"]`);

  it("renders every region with its routing control, health and buttons", async () => {
    await card(EAST).waitFor();
    expect(await page.locator(".region").count()).to.equal(2);
    for (const r of [EAST, WEST]) {
      expect(await card(r).locator("h3").innerText()).to.contain(r);
      expect(await card(r).getByTestId("control-state").innerText()).to.equal("routing control On");
      expect(await card(r).getByTestId("health").innerText()).to.equal("healthy");
    }
    expect(await page.locator("#replication tbody tr").count()).to.equal(2 * 4); // 2 directions x 4 tables
    await page.locator("#live.on").waitFor({ timeout: 5_000 });
  });

  it("shows the consistency mode: eventual", async () => {
    expect(await page.getByTestId("consistency-mode").innerText()).to.equal("eventual (MREC)");
  });

  it("turns a routing control off with a click", async () => {
    await card(EAST).getByTestId("toggle-control").click();
    await page
      .locator(`.region[data-region="${EAST}"] [data-testid="control-state"]`, {
        hasText: "routing control Off",
      })
      .waitFor({ timeout: 5_000 });
    const states = (await http("GET", `${sandbox().urls.control}/routing-controls`)).body.states;
    expect(states).to.deep.equal({ [EAST]: "Off", [WEST]: "On" });
  });

  it("shows the safety rule's refusal when the last control would go off", async () => {
    await card(WEST).getByTestId("toggle-control").click();
    // An error replaces the previous test's confirmation in the same message area.
    const message = page.locator("#message.show:not(.info)");
    await message.waitFor({ timeout: 5_000 });
    expect(await message.innerText()).to.contain("safety rule");
    expect(sandbox().endpoint.routingControls()).to.deep.equal({ [EAST]: "Off", [WEST]: "On" });
  });

  it("updates live, without a reload, when the state changes elsewhere", async () => {
    await http("PUT", `${sandbox().urls.control}/routing-controls/${EAST}`, { state: "On" });
    await page
      .locator(`.region[data-region="${EAST}"] [data-testid="control-state"]`, {
        hasText: "routing control On",
      })
      .waitFor({ timeout: 5_000 });
    await http("POST", `${sandbox().urls.control}/replication/pause`, { from: WEST, to: EAST });
    await page
      .locator(`#replication tr[data-direction="${WEST}>${EAST}"] .badge.off`)
      .first()
      .waitFor({ timeout: 5_000 });
    await http("POST", `${sandbox().urls.control}/replication/resume`, {});
  });

  it("stops and starts a region's database with its buttons", async () => {
    await card(WEST).locator('button[data-part="database"]').click();
    await page
      .locator(`.region[data-region="${WEST}"] [data-testid="health"]`, { hasText: /^unhealthy$/ })
      .waitFor({ timeout: 10_000 });
    // Unhealthy from the moment the stop begins (the region answers 503 while its stream is
    // drained), so the database is down a moment after the health turns red.
    await eventually("us-west-2's database stopped", 20_000, () =>
      sandbox().regionStatus(WEST).database ? undefined : true,
    );
    await card(WEST).locator('button[data-part="database"]', { hasText: "Start database" }).click();
    await page
      .locator("#message.show.info", { hasText: "database started" })
      .waitFor({ timeout: 20_000 });
    await page
      .locator(`.region[data-region="${WEST}"] [data-testid="health"]`, { hasText: /^healthy$/ })
      .waitFor({ timeout: 20_000 });
    expect(sandbox().regionStatus(WEST)).to.include({ database: true });
  });
});

describe("status page, strong consistency (headless Chromium)", function () {
  this.timeout(60_000);
  let executablePath = "";
  before(function () {
    const found = findChromium();
    if (found === undefined) {
      if (browserRequired()) throw new Error("REQUIRE_BROWSER is set but there is no browser");
      Object.assign(this.test?.parent ?? {}, { pendingReason: `no browser: ${INSTALL_BROWSER}` });
      this.skip();
    }
    executablePath = found;
  });
  const { sandbox } = useSandbox({ consistency: "strong", mrscWriteLatencyMs: 25 });
  let browser: Browser | undefined;
  let page: Page;
  before(async function () {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(sandbox().urls.status);
  });
  after(async function () {
    await browser?.close();
  });

  it("shows the mode, the write latency and the quorum; losing the witness shows it down", async () => {
    await page.getByTestId("consistency-mode").waitFor();
    expect(await page.getByTestId("consistency-mode").innerText()).to.equal("strong (MRSC)");
    expect(await page.getByTestId("write-latency").innerText()).to.equal("+25 ms");
    expect(await page.getByTestId("quorum").innerText()).to.equal(
      "3 of 3 members up, a write needs 2",
    );
    expect(await page.getByTestId("member").allInnerTexts()).to.deep.equal([
      `${EAST} replica up`,
      `${WEST} replica up`,
      "us-east-2 witness up",
    ]);
    await page.getByTestId("toggle-witness").click();
    await page
      .getByTestId("quorum")
      .filter({ hasText: "2 of 3 members up" })
      .waitFor({ timeout: 10_000 });
    expect(sandbox().consistencyView()).to.deep.include({ writable: true });
    expect(await page.getByTestId("member").last().innerText()).to.equal("us-east-2 witness down");
    await page.getByTestId("toggle-witness").click();
    await page
      .getByTestId("quorum")
      .filter({ hasText: "3 of 3 members up" })
      .waitFor({ timeout: 10_000 });
  });
});
