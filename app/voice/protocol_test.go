package voice

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

func TestDecodeBinary(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    inbound
		wantErr bool
	}{
		{"external sender", []byte{0x01, 0x02, 25, 0xAA, 0xBB}, inbound{op: 25, seq: 0x0102, bin: []byte{0xAA, 0xBB}}, false},
		{"empty payload", []byte{0xFF, 0xFF, 30}, inbound{op: 30, seq: 0xFFFF, bin: []byte{}}, false},
		{"too short", []byte{0x00, 0x01}, inbound{}, true},
		{"empty", nil, inbound{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBinary(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(inbound{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    inbound
		wantErr bool
	}{
		{"hello without seq", `{"op":8,"d":{"heartbeat_interval":13750.0,"v":8}}`, inbound{op: 8, seq: -1, data: json.RawMessage(`{"heartbeat_interval":13750.0,"v":8}`)}, false},
		{"numbered", `{"op":5,"d":{"speaking":0},"seq":10}`, inbound{op: 5, seq: 10, data: json.RawMessage(`{"speaking":0}`)}, false},
		{"not json", `{"op":`, inbound{}, true},
		{"op not a number", `{"op":"x"}`, inbound{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(inbound{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	b, err := encodeBinary(OpDAVEKeyPackage, []byte{1, 2})
	if err != nil || string(b) != "\x1a\x01\x02" {
		t.Errorf("encodeBinary = %x, %v", b, err)
	}
	if _, err := encodeBinary(256, nil); err == nil {
		t.Error("opcode 256 encoded")
	}
	txt, err := encodeText(opHeartbeat, heartbeatData{T: 1501184119561, SeqAck: 10})
	if want := `{"op":3,"d":{"t":1501184119561,"seq_ack":10}}`; err != nil || string(txt) != want {
		t.Errorf("encodeText = %s, %v; want %s", txt, err, want)
	}
	txt, err = encodeText(opIdentify, identifyData{ServerID: "1", UserID: "2", SessionID: "s", Token: "t", MaxDAVEProtocolVersion: 1})
	if want := `{"op":0,"d":{"server_id":"1","user_id":"2","session_id":"s","token":"t","max_dave_protocol_version":1}}`; err != nil || string(txt) != want {
		t.Errorf("identify = %s, %v; want %s", txt, err, want)
	}
}

func TestSessionDescriptionKey(t *testing.T) {
	var d sessionDescriptionData
	if err := json.Unmarshal([]byte(`{"mode":"aead_aes256_gcm_rtpsize","secret_key":[251,100,11],"dave_protocol_version":1}`), &d); err != nil {
		t.Fatal(err)
	}
	if key, err := d.key(); err != nil || string(key) != "\xfb\x64\x0b" {
		t.Errorf("key = %x, %v", key, err)
	}
	for _, bad := range [][]int{{256}, {-1}} {
		if _, err := (sessionDescriptionData{SecretKey: bad}).key(); err == nil {
			t.Errorf("key %v accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	closeErr := func(code int) error {
		return fmt.Errorf("reading: %w", websocket.CloseError{Code: websocket.StatusCode(code), Reason: "r"})
	}
	tests := []struct {
		name    string
		err     error
		want    next
		wantErr error
	}{
		{"4014 waits for a move", closeErr(4014), nextWaitMove, ErrDisconnected},
		{"4015 resumes", closeErr(4015), nextResume, nil},
		{"4006 new session", closeErr(4006), nextNewSession, nil},
		{"4009 new session", closeErr(4009), nextNewSession, nil},
		{"4017 final", closeErr(4017), nextFinal, ErrDAVERequired},
		{"4004 final", closeErr(4004), nextFinal, nil},
		{"4021 final", closeErr(4021), nextFinal, nil},
		{"4022 final", closeErr(4022), nextFinal, nil},
		{"1006 resumes", closeErr(1006), nextResume, nil},
		{"network error resumes", errors.New("read tcp: connection reset"), nextResume, nil},
		{"missed heartbeat ack resumes", errNoHeartbeatAck, nextResume, nil},
		{"moved", errMoved, nextNewSession, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classify(tt.err)
			if got != tt.want {
				t.Errorf("next = %d, want %d", got, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			var ce *CloseError
			if tt.want == nextFinal && tt.wantErr == nil && !errors.As(err, &ce) {
				t.Errorf("final err %v is not a *CloseError", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	var got []string
	for n := range 8 {
		got = append(got, backoff(n).String())
	}
	if diff := cmp.Diff([]string{"0s", "0s", "500ms", "1s", "2s", "4s", "8s", "8s"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestUpdateLatestWins(t *testing.T) {
	c := &Conn{updates: make(chan Update, 1)}
	c.Update(Update{SessionID: "s2", Token: "t2"})
	c.Update(Update{Endpoint: "e3", Token: "t3"})
	got := <-c.updates
	if diff := cmp.Diff(Update{SessionID: "s2", Token: "t3", Endpoint: "e3"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	c.params = Params{SessionID: "s1", Token: "t1", Endpoint: "e1"}
	if !c.applyUpdate(Update{Token: "t4"}) {
		t.Error("a new token reported as no change")
	}
	if diff := cmp.Diff(Params{SessionID: "s1", Token: "t4", Endpoint: "e1"}, c.params); diff != "" {
		t.Errorf("applyUpdate (-want +got):\n%s", diff)
	}
	if c.applyUpdate(Update{SessionID: "s1", Endpoint: "e1"}) {
		t.Error("an update repeating the params reported as a change")
	}
}

func TestPassthrough(t *testing.T) {
	var p passthrough
	out, err := p.EncryptOpus([]byte{9}, []byte{1, 2, 3})
	if err != nil || string(out) != "\x09\x01\x02\x03" {
		t.Errorf("EncryptOpus = %x, %v", out, err)
	}
	replies, err := p.HandleMessage(Message{Op: OpDAVEPrepareEpoch, JSON: json.RawMessage(`{"epoch":1}`)})
	if replies != nil || err != nil || p.MaxProtocolVersion() != 0 || !p.Ready() {
		t.Errorf("passthrough answered %v, %v", replies, err)
	}
}

func TestHelloIntervalIsAFloat(t *testing.T) {
	m, err := decodeText([]byte(`{"op":8,"d":{"heartbeat_interval":13750.5,"v":8}}`))
	if err != nil {
		t.Fatal(err)
	}
	var d helloData
	if err := decodeData(m, &d); err != nil || d.HeartbeatInterval != 13750.5 {
		t.Fatalf("hello = %+v, %v", d, err)
	}
}
