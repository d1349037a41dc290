package realtime

import (
	"context"
	"time"

	"github.com/gorilla/websocket"
)

// Timing of a live connection.
const (
	writeWait  = 10 * time.Second  // to write one message
	pongWait   = 60 * time.Second  // for the peer's pong
	pingPeriod = pongWait * 9 / 10 // between pings
	readLimit  = 4096              // bytes of one incoming message
)

// Serve pumps the client's messages to conn until the client is dropped,
// the peer goes away or ctx ends, then unregisters the client and closes
// conn. It runs the connection's writer in the calling goroutine and owns
// one reader goroutine, which it waits for.
func (h *Hub) Serve(ctx context.Context, conn *websocket.Conn, c *Client) error {
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		conn.SetReadLimit(readLimit)
		_ = conn.SetReadDeadline(time.Now().Add(pongWait))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	err := h.write(ctx, conn, c, readerDone)
	h.Unregister(c)
	conn.Close() // ends the reader
	<-readerDone
	return err
}

func (h *Hub) write(ctx context.Context, conn *websocket.Conn, c *Client, readerDone <-chan struct{}) error {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case msg, ok := <-c.send:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = conn.WriteMessage(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow"))
				return nil
			}
			if err := conn.WritePreparedMessage(msg.prepared); err != nil {
				return err
			}
		case <-ping.C:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return err
			}
		case <-readerDone:
			return nil
		case <-ctx.Done():
			_ = conn.WriteMessage(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"))
			return ctx.Err()
		}
	}
}
