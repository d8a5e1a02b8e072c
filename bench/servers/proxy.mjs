/** A proxy under test in its own process: `node proxy.mjs <name> <upstream origin>`. */
import { serve } from './child.mjs';
import { PROXIES } from './proxies.mjs';

const [name, upstream] = process.argv.slice(2);
const proxy = PROXIES[name];
if (!proxy) {
  throw new Error(`unknown proxy ${name}; one of ${Object.keys(PROXIES).join(', ')}`);
}
serve(await proxy.build(upstream));
