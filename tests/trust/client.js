// Fetches each URL given on the command line with https.get and Node's default trust (its
// root store plus NODE_EXTRA_CA_CERTS), printing one line per URL: "<url> ok" or
// "<url> fail: <reason>".
'use strict';
const https = require('https');

function fetch(url) {
  return new Promise((resolve) => {
    const req = https.get(url, { timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${url} ok`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`${url} fail: ${e.code || ''} ${e.message}`));
  });
}

(async () => {
  for (const url of process.argv.slice(2)) {
    console.log(await fetch(url));
  }
})();
