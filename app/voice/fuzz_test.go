package voice

import (
	"testing"

	"github.com/coder/websocket"
)

// FuzzGatewayMessage feeds arbitrary gateway messages through the decoding
// the session does: envelope (text) or sequence/opcode header (binary), then
// the opcode's payload. It must never panic.
func FuzzGatewayMessage(f *testing.F) {
	f.Add(true, []byte{0x00, 0x01, OpDAVEExternalSender, 0x40, 0x41, 0x04})
	f.Add(true, []byte{0x00, 0x02, OpDAVEAnnounceCommit, 0x00, 0x07, 0x00, 0x01})
	f.Add(false, []byte(`{"op":8,"d":{"heartbeat_interval":13750.0,"v":8}}`))
	f.Add(false, []byte(`{"op":2,"d":{"ssrc":1,"ip":"127.0.0.1","port":1234,"modes":["aead_aes256_gcm_rtpsize"],"heartbeat_interval":1}}`))
	f.Add(false, []byte(`{"op":4,"d":{"mode":"aead_aes256_gcm_rtpsize","secret_key":[251,100,11],"dave_protocol_version":1},"seq":1}`))
	f.Fuzz(func(t *testing.T, binary bool, data []byte) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		var m inbound
		var err error
		if typ == websocket.MessageBinary {
			m, err = decodeBinary(data)
		} else {
			m, err = decodeText(data)
		}
		if err != nil {
			return
		}
		if binary && (m.seq < 0 || m.seq > 0xFFFF || len(m.bin) != len(data)-3) {
			t.Fatalf("binary message decoded to seq %d, %d-byte payload from %d bytes", m.seq, len(m.bin), len(data))
		}
		switch m.op {
		case opHello:
			var d helloData
			_ = decodeData(m, &d)
		case opReady:
			var d readyData
			_ = decodeData(m, &d)
		case OpClientsConnect, OpClientDisconnect:
			c := &Conn{clients: make(map[string]struct{})}
			_ = c.trackClients(m)
		case OpSessionDescription:
			var d sessionDescriptionData
			if decodeData(m, &d) == nil {
				_, _ = d.key()
			}
		}
	})
}
