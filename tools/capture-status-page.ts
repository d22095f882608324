/**
 * Takes docs/status-page.png: starts a sandbox, sends order traffic from a client in each
 * region, turns us-east-1's routing control off half-way, and photographs the status page in
 * headless Chromium. Run: node --import tsx tools/capture-status-page.ts [out.png]
 */
import { chromium } from "playwright-core";
import { startSandbox } from "../local/sandbox";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Chromium's switches for a headless run in a container; the status page test uses them too. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

async function main(out: string): Promise<void> {
  const sandbox = await startSandbox({ ttlSeconds: 5, healthCheck: { intervalMs: 1_000 } });
  try {
    const [east, west] = sandbox.regions as [string, string];
    const fill = await fetch(`${sandbox.urls.regions[east]}/fill?cust=40&product=40&order=0`, {
      method: "POST",
    });
    const { customers, products } = (await fill.json()) as {
      customers: string[];
      products: string[];
    };
    await sandbox.replicator.waitIdle(10_000);
    let i = 0;
    const order = async (region: string): Promise<void> => {
      const n = i++;
      const headers = {
        "content-type": "application/json",
        "x-client-id": `demo-${region}`,
        "x-client-region": region,
      };
      const res = await fetch(`${sandbox.urls.global}/orders`, {
        method: "POST",
        headers,
        body: JSON.stringify({ customerId: customers[n], productId: products[n] }),
      });
      const body = (await res.json()) as { OrderId?: string };
      if (body.OrderId) await fetch(`${sandbox.urls.global}/orders/${body.OrderId}`, { headers });
    };
    for (let s = 0; s < 18; s++) {
      if (s === 9) sandbox.endpoint.setRoutingControls({ [east]: "Off" });
      await Promise.all([order(east), order(west)]);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(sandbox.urls.status);
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      await page.screenshot({ path: out, fullPage: true });
      console.log(`wrote ${out}`);
    } finally {
      await browser.close();
    }
  } finally {
    await sandbox.stop();
  }
}

if (require.main === module) {
  main(process.argv[2] ?? "docs/status-page.png").catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
