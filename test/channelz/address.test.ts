// Channelz addresses: IP addresses as network-order bytes (4 for IPv4 and IPv4-mapped
// IPv6, 16 for IPv6), as channelz's Address.TcpIpAddress wants them.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ipBytes } from "../../src/channelz/to-proto.js";

const test = suite("channelz: addresses");

test("IPv4, IPv4-mapped IPv6, IPv6 with and without ::, and a trailing dotted quad", () => {
  assert.equal([...ipBytes("127.0.0.1")], [127, 0, 0, 1]);
  assert.equal([...ipBytes("::ffff:10.1.2.3")], [10, 1, 2, 3]);
  assert.equal([...ipBytes("::1")], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal([...ipBytes("::")], new Array(16).fill(0));
  assert.equal([...ipBytes("fe80::1:2")], [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
  assert.equal([...ipBytes("2001:db8:0:0:0:0:0:ff")], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]);
  assert.equal([...ipBytes("64:ff9b::1.2.3.4")], [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal([...ipBytes("not an address")], []);
});

test.run();
