// check-kel.mjs: checks a KERI key event log (CESR text: JSON event bodies, each followed by
// its -A indexed controller signatures) with signify-ts, a KERI implementation independent of
// keremony's Go code.
//
//   node check-kel.mjs KEL.cesr              one line per event; exit 1 on any failure
//   node check-kel.mjs --tamper IN OUT       write IN with one signature character changed
//
// signify-ts 0.3.0 has no CESR stream parser, so this script splits the stream itself, and
// only as far as needed: each body's length comes from its version string, then counters
// (-A controller signatures, -B witness signatures, -G seal source couples) and the 88- or
// 92-character indexed signatures. Everything else is signify-ts: Serder re-serializes each
// body (it must give back the same bytes), Saider and Prefixer recompute the SAID and the
// self-addressing prefix, Siger and Verfer verify every signature against the key at its index
// (for an ixn: the last establishment event's keys), Tholder checks kt, and for rotations Diger
// checks each revealed key against the prior next digest it claims and Tholder the prior nt.
import { readFileSync, writeFileSync } from 'node:fs';
import { ready, Serder, Saider, Prefixer, Siger, Verfer, Diger, Tholder, MtrDex } from 'signify-ts';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64int = (s) => [...s].reduce((n, c) => {
  const v = B64.indexOf(c);
  if (v < 0) throw new Error(`bad base64 character ${JSON.stringify(c)}`);
  return n * 64 + v;
}, 0);

// splitStream cuts a CESR text stream into messages: {body, sigs: [{qb64, at}], offset}.
function splitStream(text) {
  const msgs = [];
  let pos = 0;
  while (pos < text.length) {
    const head = text.slice(pos, pos + 25);
    const m = /^\{"v":"KERI10JSON([0-9a-f]{6})_"/.exec(head);
    if (!m) throw new Error(`offset ${pos}: expected a KERI10JSON event body, found ${JSON.stringify(head)}`);
    const size = parseInt(m[1], 16);
    if (pos + size > text.length) throw new Error(`offset ${pos}: body of ${size} bytes is truncated`);
    const msg = { offset: pos, body: text.slice(pos, pos + size), sigs: [] };
    pos += size;
    while (pos < text.length && text[pos] !== '{') {
      const ctr = text.slice(pos, pos + 4);
      if (!/^-[A-Za-z][A-Za-z0-9_-]{2}$/.test(ctr)) throw new Error(`offset ${pos}: expected a counter, found ${JSON.stringify(ctr)}`);
      const count = b64int(ctr.slice(2));
      pos += 4;
      if (ctr[1] === 'A' || ctr[1] === 'B') {
        for (let i = 0; i < count; i++) {
          const len = text[pos] === '2' ? 92 : 88; // 2A/2B: big index codes; A/B: one-character codes
          const qb64 = text.slice(pos, pos + len);
          if (qb64.length !== len) throw new Error(`offset ${pos}: truncated signature`);
          if (ctr[1] === 'A') msg.sigs.push({ qb64, at: pos });
          pos += len;
        }
      } else if (ctr[1] === 'G') {
        pos += count * (24 + 44); // seal source couples: 0A sequence number + SAID
      } else {
        throw new Error(`offset ${pos - 4}: counter ${ctr} is not one this check reads`);
      }
    }
    msgs.push(msg);
  }
  return msgs;
}

const te = new TextEncoder();
const sithOf = (t) => (typeof t === 'string' ? t : t); // hex string or weighted clauses, as in the event

function checkEvent(msg, state) {
  const sad = JSON.parse(msg.body);
  const problems = [];
  const serder = new Serder(structuredClone(sad));
  if (serder.raw !== msg.body) problems.push('Serder does not re-serialize the body byte for byte');
  if (serder.size !== msg.body.length) problems.push(`version size ${serder.size} != body ${msg.body.length}`);
  const ilk = sad.t;
  // SAID (and, for inceptions, the self-addressing prefix: d and i are both dummied).
  if (ilk === 'icp' || ilk === 'dip') {
    const pre = new Prefixer({ code: MtrDex.Blake3_256 }, structuredClone(sad));
    if (pre.qb64 !== sad.i) problems.push(`prefix ${sad.i} is not the derived ${pre.qb64}`);
    if (sad.d !== sad.i) problems.push('inception SAID differs from the prefix');
    if (state.pre !== undefined) problems.push('second inception in the stream');
    state.pre = sad.i;
    state.sn = -1;
  } else {
    if (!new Saider({ qb64: sad.d }).verify(structuredClone(sad), true, true)) problems.push(`SAID ${sad.d} does not verify`);
    if (sad.i !== state.pre) problems.push(`identifier ${sad.i} is not ${state.pre}`);
    if (sad.p !== state.last) problems.push(`prior ${sad.p} is not the last event ${state.last}`);
  }
  const sn = serder.sn;
  if (sn !== state.sn + 1) problems.push(`sn ${sn} after ${state.sn}`);
  // The keys signatures index into, and the threshold they must meet.
  const est = ilk === 'icp' || ilk === 'dip' || ilk === 'rot' || ilk === 'drt';
  const keys = est ? sad.k : state.keys;
  const kt = est ? sad.kt : state.kt;
  const signed = [];
  const exposed = [];
  for (const s of msg.sigs) {
    const siger = new Siger({ qb64: s.qb64 });
    if (siger.index >= keys.length) {
      problems.push(`signature index ${siger.index} beyond ${keys.length} keys`);
      continue;
    }
    const verfer = new Verfer({ qb64: keys[siger.index] });
    if (!verfer.verify(siger.raw, te.encode(msg.body))) {
      problems.push(`signature at index ${siger.index} does not verify against ${keys[siger.index]}`);
      continue;
    }
    if (!signed.includes(siger.index)) signed.push(siger.index);
    const both = siger.code === 'A' || siger.code === '2A'; // index and ondex (prior next position)
    if ((ilk === 'rot' || ilk === 'drt') && both) {
      const ondex = siger.ondex ?? siger.index;
      const prior = state.next[ondex];
      if (prior !== undefined && new Diger({ qb64: prior }).verify(te.encode(keys[siger.index]))) {
        if (!exposed.includes(ondex)) exposed.push(ondex);
      } else {
        problems.push(`key ${keys[siger.index]} does not match prior next digest n[${ondex}]`);
      }
    }
  }
  const ktOK = new Tholder({ sith: sithOf(kt) }).satisfy(signed);
  if (!ktOK) problems.push(`kt ${JSON.stringify(kt)} not met by signatures at [${signed}]`);
  let priorText = '';
  if (ilk === 'rot' || ilk === 'drt') {
    const ntOK = new Tholder({ sith: sithOf(state.nt) }).satisfy(exposed);
    if (!ntOK) problems.push(`prior nt ${JSON.stringify(state.nt)} not met by revealed keys at prior [${exposed}]`);
    priorText = `, prior nt ${JSON.stringify(state.nt)} met by revealed n[${exposed.sort()}]`;
  }
  if (est) {
    state.keys = sad.k;
    state.kt = sad.kt;
    state.next = sad.n;
    state.nt = sad.nt;
  }
  state.sn = sn;
  state.last = sad.d;
  const what = `sn ${sn} ${ilk} ${sad.d}`;
  if (problems.length) return { ok: false, line: `${what} INVALID: ${problems.join('; ')}` };
  return {
    ok: true,
    line: `${what} ok: SAID, ${msg.sigs.length} signatures verify (k[${signed.sort()}]), kt ${JSON.stringify(kt)} met${priorText}`,
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--tamper' && args.length === 3) {
    const text = readFileSync(args[1], 'utf8');
    const msgs = splitStream(text);
    const s = msgs[msgs.length - 1].sigs[0];
    const at = s.at + 40; // inside the signature's bytes, away from the code and pad bits
    const flipped = text[at] === 'A' ? 'B' : 'A';
    writeFileSync(args[2], text.slice(0, at) + flipped + text.slice(at + 1));
    console.log(`tampered: character ${at} of ${args[1]} (${text[at]} -> ${flipped}), in a signature of sn ${msgs.length - 1}`);
    return 0;
  }
  if (args.length !== 1) {
    console.error('usage: node check-kel.mjs KEL.cesr | --tamper IN OUT');
    return 2;
  }
  await ready();
  const text = readFileSync(args[0], 'utf8');
  let msgs;
  try {
    msgs = splitStream(text);
  } catch (e) {
    console.log(`${args[0]}: stream does not split: ${e.message}`);
    return 1;
  }
  const state = {};
  let failed = 0;
  for (const msg of msgs) {
    let r;
    try {
      r = checkEvent(msg, state);
    } catch (e) {
      r = { ok: false, line: `offset ${msg.offset} INVALID: ${e.message}` };
      state.sn = (state.sn ?? -1) + 1;
    }
    console.log(r.line);
    if (!r.ok) failed++;
  }
  if (msgs.length === 0) {
    console.log('no events');
    return 1;
  }
  console.log(failed ? `signify-ts: ${failed} of ${msgs.length} events INVALID` : `signify-ts: all ${msgs.length} events of ${state.pre} valid`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
