#!/usr/bin/env node
/*
 * Drives OneAll's official Node SDK (npm `oneall`) against a sandbox, one call after the
 * other, and prints one JSON line per call: what the SDK sent and what it got back.
 *
 *   node run.js plan.json
 *
 * plan.json: {"base_url": "http://127.0.0.1:PORT", "public_key": ..., "private_key": ...,
 *             "vars": {"name": value, ...}, "calls": [{"id", "kind", "method", "args"}, ...]}
 *
 * `method` names an SDK function on the client: "connection.get", "identity.reLink", ... or
 * "api.post" / "api.get" / "api.put" / "api.del", the SDK's generic request functions (the
 * SDK has no Push API method: pushes go through `api.post`, which builds the URL, the
 * {"request": ...} wrapper, the Basic auth and the body exactly as its own methods do).
 * `args` are the arguments before the callback. In a string argument (at any depth),
 * `{{name}}` is replaced by vars[name] and `{{@call_id:dotted.path}}` by that value of an
 * earlier call's answer body; a string that is nothing but one placeholder takes the
 * value's own JSON type.
 *
 * Output line: {"id", "kind", "method", "status", "body", "request": {"method", "path",
 * "body"}, "sdk": {"error", "data"}} -- or {"id", ..., "status": null, "error": "..."} when a
 * placeholder could not be resolved (an earlier call failed). Exit 0 whatever the statuses;
 * non-zero only when the harness itself is broken (bad plan, SDK missing, a call that never
 * reached the wire or never called back).
 */
'use strict';

const fs = require('fs');
const path = require('path');

const CALL_TIMEOUT_MS = 15000;

function fail(message) {
    process.stderr.write('run.js: ' + message + '\n');
    process.exit(2);
}

/*
 * The SDK takes its base URL from the `endpoint` option (lib/config, lib/core/api.js
 * parseUrl: endpoint + '/' + path + '.json'), so it is pointed at the sandbox by
 * configuration alone. What it does not give back is the HTTP exchange: its callbacks
 * receive the parsed JSON body (or an error) but never the status, the request line or the
 * body sent. To report those, this wraps -- observe only, arguments and results passed
 * through untouched -- the four functions of the `request` module the SDK itself requires
 * (lib/core/api.js calls `request.get.bind(request)` & co. at each call, so it picks up the
 * wrapped ones). Nothing under node_modules is modified.
 */
const sdkDir = path.dirname(require.resolve('oneall/package.json'));
const sdkRequest = require(require.resolve('request', { paths: [sdkDir] }));
const Oneall = require('oneall');

let exchange = null; // the exchange of the call in flight (calls run one at a time)

for (const name of ['get', 'post', 'put', 'del']) {
    const original = sdkRequest[name];
    sdkRequest[name] = function observed(uri, options, callback) {
        const seen = { request: null, status: null, raw: null, error: null };
        if (exchange !== null) {
            exchange.push(seen);
        }
        const sent = options && options.body;
        const req = original.call(this, uri, options, function (error, response, body) {
            if (error) {
                seen.error = String(error && error.message ? error.message : error);
            } else {
                seen.status = response.statusCode;
                seen.raw = typeof body === 'string' ? body : String(body);
            }
            callback(error, response, body);
        });
        seen.request = {
            method: req.method,
            path: req.path,
            body: parseOr(sent === undefined ? null : sent),
            content_type: (req.headers && (req.headers['content-type'] || req.headers['Content-Type'])) || null,
        };
        return req;
    };
}

function parseOr(text) {
    if (typeof text !== 'string') {
        return text;
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        return text;
    }
}

class Unresolved extends Error {}

function lookup(value, dotted) {
    let node = value;
    for (const key of dotted.split('.').filter((part) => part !== '')) {
        if (node === null || typeof node !== 'object' || !(key in node)) {
            return undefined;
        }
        node = node[key];
    }
    return node;
}

const PLACEHOLDER = /\{\{(@?[^{}]+)\}\}/g;

function substitute(value, vars, answers) {
    if (typeof value === 'string') {
        const one = /^\{\{(@?[^{}]+)\}\}$/.exec(value);
        if (one) {
            return resolve(one[1], vars, answers);
        }
        return value.replace(PLACEHOLDER, (_, name) => String(resolve(name, vars, answers)));
    }
    if (Array.isArray(value)) {
        return value.map((item) => substitute(item, vars, answers));
    }
    if (value !== null && typeof value === 'object') {
        const out = {};
        for (const [key, item] of Object.entries(value)) {
            out[key] = substitute(item, vars, answers);
        }
        return out;
    }
    return value;
}

function resolve(name, vars, answers) {
    if (name.startsWith('@')) {
        const colon = name.indexOf(':');
        const id = colon < 0 ? name.slice(1) : name.slice(1, colon);
        const dotted = colon < 0 ? '' : name.slice(colon + 1);
        if (!(id in answers)) {
            throw new Unresolved(`{{${name}}}: no earlier call ${JSON.stringify(id)} answered`);
        }
        const found = lookup(answers[id], dotted);
        if (found === undefined || found === null) {
            throw new Unresolved(`{{${name}}}: call ${JSON.stringify(id)}'s answer has no ${dotted}`);
        }
        return found;
    }
    if (!(name in vars)) {
        fail(`the plan uses {{${name}}} but vars has no ${JSON.stringify(name)}`);
    }
    return vars[name];
}

function sdkFunction(client, dotted) {
    const [group, name, ...rest] = dotted.split('.');
    const owner = client[group];
    if (rest.length || !owner || typeof owner[name] !== 'function') {
        fail(`the SDK has no function ${dotted}`);
    }
    // the SDK binds its resource functions to the client; its Api methods need their object
    return group === 'api' ? owner[name].bind(owner) : owner[name];
}

function perform(fn, args) {
    return new Promise((resolvePromise) => {
        let done = false;
        const timer = setTimeout(() => {
            if (!done) {
                done = true;
                resolvePromise({ timeout: true });
            }
        }, CALL_TIMEOUT_MS);
        fn(...args, (error, data) => {
            if (done) {
                return;
            }
            done = true;
            clearTimeout(timer);
            resolvePromise({ error, data });
        });
    });
}

function describeError(error) {
    if (!error) {
        return null;
    }
    return String(error.message || error);
}

async function main() {
    if (process.argv.length < 3) {
        fail('usage: node run.js plan.json');
    }
    let plan;
    try {
        plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    } catch (e) {
        fail(`cannot read the plan ${process.argv[2]}: ${e.message}`);
    }
    for (const key of ['base_url', 'public_key', 'private_key', 'calls']) {
        if (!(key in plan)) {
            fail(`the plan has no ${key}`);
        }
    }
    const client = new Oneall({
        endpoint: String(plan.base_url).replace(/\/+$/, ''),
        publickey: plan.public_key,
        privatekey: plan.private_key,
    });
    const vars = plan.vars || {};
    const answers = {};
    for (const call of plan.calls) {
        const line = { id: call.id, kind: call.kind, method: call.method };
        const fn = sdkFunction(client, call.method);
        let args;
        try {
            args = substitute(call.args || [], vars, answers);
        } catch (e) {
            if (!(e instanceof Unresolved)) {
                throw e;
            }
            Object.assign(line, { status: null, body: null, request: null, error: e.message });
            process.stdout.write(JSON.stringify(line) + '\n');
            continue;
        }
        exchange = [];
        const outcome = await perform(fn, args);
        const seen = exchange;
        exchange = null;
        if (outcome.timeout) {
            fail(`${call.id}: the SDK did not call back within ${CALL_TIMEOUT_MS} ms`);
        }
        if (seen.length !== 1) {
            fail(`${call.id}: expected one HTTP exchange through the SDK, saw ${seen.length}`);
        }
        const [wire] = seen;
        if (wire.error !== null) {
            fail(`${call.id}: ${call.method} did not reach the server: ${wire.error}`);
        }
        const body = parseOr(wire.raw);
        answers[call.id] = body;
        Object.assign(line, {
            status: wire.status,
            body,
            request: wire.request,
            sdk: {
                error: describeError(outcome.error),
                data: outcome.data === undefined ? null : outcome.data,
            },
        });
        process.stdout.write(JSON.stringify(line) + '\n');
    }
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
