/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core): it renders
 * every region, its buttons change the sandbox, a refused change shows the safety rule's
 * message, and changes made elsewhere appear without a reload.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { eventually, http, useSandbox } from "./support/sandbox";

/** Where Debian's chromium package installs the browser (.ci/run installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const EAST = "us-east-1";
const WEST = "us-west-2";

describe("status page (headless Chromium)", function () {
  this.timeout(30_000);
  const { sandbox } = useSandbox();
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    this.timeout(60_000);
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
