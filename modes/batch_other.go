//go:build !linux

package modes

// Elsewhere datagrams are read and sent one per system call.

import "io"

// newBatchReader reads c's datagrams into a buffer of size bytes.
func newBatchReader(c datagramReader, size int) batchReader {
	return &plainReader{c: c, buf: make([]byte, size)}
}

// newBatchWriter sends datagrams on c, a connected socket or a
// net.PacketConn.
func newBatchWriter(c any) batchWriter { return plainWriter{c} }

// newChunkReader reads r for sendReadAhead, one read per call.
func newChunkReader(r io.Reader) chunkReader { return &plainChunks{r: r} }
