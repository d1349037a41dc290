package realtime

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// HubConfig sizes a Hub. The zero value uses the defaults.
type HubConfig struct {
	// QueueLen is how many messages may wait for one client before it is
	// dropped as too slow; default 64.
	QueueLen int
}

// Frame is one message for live clients: its bytes, and its websocket
// frame prepared once so that all clients share the encoding (and the
// compression, for clients that negotiated it).
type Frame struct {
	Data     []byte // the message, JSON text; shared, not to be modified
	prepared *websocket.PreparedMessage
}

// NewFrame returns the frame of a text message.
func NewFrame(data []byte) (Frame, error) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return Frame{}, fmt.Errorf("realtime: prepare message: %w", err)
	}
	return Frame{Data: data, prepared: pm}, nil
}

// Client is one live map connection registered with a Hub. Its Send
// channel yields the messages to write, the snapshot first; it is closed
// when the hub drops the client (too slow, unregistered, or hub stopped).
type Client struct {
	send chan Frame
}

// Send returns the channel of messages for the client.
func (c *Client) Send() <-chan Frame { return c.send }

type hubOp struct {
	client *Client
	msg    Frame
	kind   int
}

const (
	opRegister = iota
	opUnregister
	opBroadcast
)

// Hub fans messages out to live map clients. One goroutine, Run, owns the
// client set; registering, unregistering and broadcasting are requests to
// it, applied in the order they are made, so a client registered with a
// snapshot receives every broadcast made after it and none made before. A
// client whose queue is full is dropped, never waited on.
// A Hub is safe for concurrent use.
type Hub struct {
	cfg     HubConfig
	ops     chan hubOp
	done    chan struct{}
	clients atomic.Int64
	dropped atomic.Int64
}

// NewHub returns a hub; Run must be running for it to deliver.
func NewHub(cfg HubConfig) *Hub {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 64
	}
	return &Hub{cfg: cfg, ops: make(chan hubOp, 1024), done: make(chan struct{})}
}

// Run delivers messages until ctx ends, then closes every client.
func (h *Hub) Run(ctx context.Context) error {
	defer close(h.done)
	clients := map[*Client]struct{}{}
	drop := func(c *Client) {
		if _, ok := clients[c]; ok {
			delete(clients, c)
			close(c.send)
			h.clients.Store(int64(len(clients)))
		}
	}
	defer func() {
		for c := range clients {
			drop(c)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case op := <-h.ops:
			switch op.kind {
			case opRegister:
				clients[op.client] = struct{}{}
				h.clients.Store(int64(len(clients)))
			case opUnregister:
				drop(op.client)
			case opBroadcast:
				for c := range clients {
					select {
					case c.send <- op.msg:
					default:
						drop(c)
						h.dropped.Add(1)
					}
				}
			}
		}
	}
}

func (h *Hub) do(op hubOp) {
	select {
	case h.ops <- op:
	case <-h.done:
	}
}

// Register adds a client whose first message is snapshot.
func (h *Hub) Register(snapshot Frame) *Client {
	c := &Client{send: make(chan Frame, h.cfg.QueueLen)}
	c.send <- snapshot
	h.do(hubOp{kind: opRegister, client: c})
	return c
}

// Unregister removes c and closes its Send channel; it is safe to call
// for a client already dropped.
func (h *Hub) Unregister(c *Client) { h.do(hubOp{kind: opUnregister, client: c}) }

// Broadcast queues msg for every registered client.
func (h *Hub) Broadcast(msg Frame) { h.do(hubOp{kind: opBroadcast, msg: msg}) }

// Clients returns the number of registered clients.
func (h *Hub) Clients() int { return int(h.clients.Load()) }

// Dropped returns how many clients were dropped for not keeping up.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }
