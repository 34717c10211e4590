// A tiny authoritative DNS server on a loopback UDP port, for `dns://127.0.0.1:port/name`
// targets: A, AAAA and TXT answers from a table the test may change, and a count of
// the questions asked. Only what the resolver tests need of RFC 1035.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export interface DnsRecords {
  a?: string[];
  aaaa?: string[];
  txt?: string[];
}

const TYPE_A = 1;
const TYPE_TXT = 16;
const TYPE_AAAA = 28;

export class DnsServer {
  /** Records by lower-case name (no trailing dot); change them at will. */
  readonly records = new Map<string, DnsRecords>();
  /** Questions asked, as "name/A", "name/AAAA", "name/TXT". */
  readonly questions: string[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<DnsServer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const server = new DnsServer(socket, socket.address().port);
    socket.on("message", (msg, rinfo) => server.answer(msg, rinfo));
    return server;
  }

  /** Questions asked so far for `name` of `type`. */
  asked(name: string, type: "A" | "AAAA" | "TXT"): number {
    return this.questions.filter((q) => q === `${name}/${type}`).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer, rinfo: RemoteInfo): void {
    if (query.length < 12) return;
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset]! !== 0) {
      const len = query[offset]!;
      labels.push(query.subarray(offset + 1, offset + 1 + len).toString("ascii"));
      offset += len + 1;
    }
    offset += 1;
    const type = query.readUInt16BE(offset);
    const questionEnd = offset + 4;
    const name = labels.join(".").toLowerCase();
    this.questions.push(`${name}/${type === TYPE_A ? "A" : type === TYPE_AAAA ? "AAAA" : type === TYPE_TXT ? "TXT" : type}`);
    const records = this.records.get(name);
    const answers: Buffer[] = [];
    if (records !== undefined) {
      const rdatas = type === TYPE_A ? (records.a ?? []).map(ipv4Bytes) : type === TYPE_AAAA ? (records.aaaa ?? []).map(ipv6Bytes) : type === TYPE_TXT ? (records.txt ?? []).map(txtBytes) : [];
      for (const rdata of rdatas) {
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
        rr.writeUInt16BE(type, 2);
        rr.writeUInt16BE(1, 4); // class IN
        rr.writeUInt32BE(0, 6); // TTL
        rr.writeUInt16BE(rdata.length, 10);
        answers.push(rr, rdata);
      }
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | (records === undefined ? 3 : 0), 2); // response, recursion available; NXDOMAIN if unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length / 2, 6);
    this.socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), rinfo.port, rinfo.address);
  }
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split(".").map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function txtBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length || i === 0; i += 255) {
    const chunk = Buffer.from(text.slice(i, i + 255), "utf8");
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}
