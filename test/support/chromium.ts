// Headless Chromium for tests of generated HTML: load a file, let its scripts run, and read back
// the DOM they left (Chromium's --dump-dom), plus a reader for the SVG elements in it.
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** The DOM of `file` after its scripts ran, serialized. No network, no GPU, no sandbox (root). */
export function dumpDom(file: string, timeoutMs = 60_000): Promise<string> {
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    // Scripts get this much virtual time before the dump (the report draws synchronously).
    '--virtual-time-budget=5000',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'chromium',
      argv,
      { timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`chromium failed (setup installs it): ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

export type Attributes = Record<string, string>;

/** The attributes of the first `<tag ...>` whose attributes match `where`, and its inner HTML. */
export function element(
  html: string,
  tag: string,
  where: RegExp,
): { attributes: Attributes; inner: string } | undefined {
  const pattern = new RegExp(`<${tag}\\b([^>]*)>([\\s\\S]*?)</${tag}>`, 'g');
  for (const m of html.matchAll(pattern)) {
    if (where.test(m[1])) return { attributes: attributesOf(m[1]), inner: m[2] };
  }
  return undefined;
}

/** The attributes of every `<tag ...>` in `html`. */
export function elements(html: string, tag: string): Attributes[] {
  return [...html.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))].map((m) =>
    attributesOf(m[1]),
  );
}

function attributesOf(text: string): Attributes {
  return Object.fromEntries([...text.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}
