package road

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// The road graph file is little-endian:
//
//	magic   [8]byte  "PGROADS\x00"
//	version uint32   graphFileVersion
//	length  uint64   bytes of payload
//	payload          the graphs (see appendGraph)
//	crc     uint32   CRC-32 (Castagnoli) of payload
//
// Positions are int32 in 1e-7 degrees (lon, lat), as in OSM.
const (
	graphFileMagic   = "PGROADS\x00"
	graphFileVersion = 1
	graphHeaderLen   = 8 + 4 + 8
)

// ErrGraphFile is returned for a road graph file that is not one, is of
// another version, or is damaged.
var ErrGraphFile = errors.New("road: bad road graph file")

// WriteNetwork writes net to w in the road graph file format, which
// ReadNetwork loads much faster than ImportOSM builds it.
func WriteNetwork(w io.Writer, net *Network) error {
	var p []byte
	p = binary.LittleEndian.AppendUint32(p, uint32(len(net.Graphs)))
	for _, g := range net.Graphs {
		p = appendGraph(p, g)
	}
	h := make([]byte, 0, graphHeaderLen)
	h = append(h, graphFileMagic...)
	h = binary.LittleEndian.AppendUint32(h, graphFileVersion)
	h = binary.LittleEndian.AppendUint64(h, uint64(len(p)))
	p = binary.LittleEndian.AppendUint32(p, crc32.Checksum(p, crcTable()))
	if _, err := w.Write(h); err != nil {
		return fmt.Errorf("road: write road graph file: %w", err)
	}
	if _, err := w.Write(p); err != nil {
		return fmt.Errorf("road: write road graph file: %w", err)
	}
	return nil
}

func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// ReadNetwork reads a road graph file written by WriteNetwork. It
// returns an error wrapping ErrGraphFile when the file is not one, is of
// another version or fails its checksum.
func ReadNetwork(r io.Reader) (*Network, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("road: read road graph file: %w", err)
	}
	if len(b) < graphHeaderLen || string(b[:8]) != graphFileMagic {
		return nil, fmt.Errorf("%w: no header", ErrGraphFile)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != graphFileVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrGraphFile, v, graphFileVersion)
	}
	n := binary.LittleEndian.Uint64(b[12:])
	if uint64(len(b)-graphHeaderLen) != n+4 {
		return nil, fmt.Errorf("%w: %d payload bytes, header says %d", ErrGraphFile, len(b)-graphHeaderLen-4, n)
	}
	p := b[graphHeaderLen : graphHeaderLen+n]
	if crc32.Checksum(p, crcTable()) != binary.LittleEndian.Uint32(b[graphHeaderLen+n:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrGraphFile)
	}
	d := decoder{b: p}
	net := &Network{}
	for range d.u32() {
		g := d.graph()
		if d.err != nil {
			break
		}
		net.Graphs = append(net.Graphs, g)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGraphFile, d.err)
	}
	return net, nil
}

// appendGraph appends g: name, mode, bands, stats, nodes, edges, shape.
func appendGraph(p []byte, g *Graph) []byte {
	p = appendString(p, g.Name)
	p = appendString(p, g.Mode)
	names := make([]string, 0, len(g.Bands))
	for n := range g.Bands {
		names = append(names, n)
	}
	sort.Strings(names)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(names)))
	for _, n := range names {
		b := g.Bands[n]
		p = appendString(p, n)
		p = binary.LittleEndian.AppendUint64(p, math.Float64bits(b.Factor))
		p = binary.LittleEndian.AppendUint32(p, uint32(len(b.Hours)))
		for _, h := range b.Hours {
			p = append(p, byte(h[0]), byte(h[1]))
		}
	}
	st := g.Stats
	for _, v := range []int{st.Ways, st.Nodes, st.Edges, st.Components, st.DroppedNodes, st.DroppedEdges} {
		p = binary.LittleEndian.AppendUint32(p, uint32(v))
	}
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(st.KeptKm))
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(st.DroppedKm))
	p = appendPoints(p, g.nodes)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(g.edges)))
	for _, e := range g.edges {
		p = binary.LittleEndian.AppendUint32(p, uint32(e.from))
		p = binary.LittleEndian.AppendUint32(p, uint32(e.to))
		p = binary.LittleEndian.AppendUint32(p, uint32(e.shape1-e.shape0))
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(e.length))
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(e.fwdKPH))
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(e.bwdKPH))
	}
	return appendPoints(p, g.shape)
}

func appendString(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

func appendPoints(p []byte, pts []orb.Point) []byte {
	p = binary.LittleEndian.AppendUint32(p, uint32(len(pts)))
	for _, pt := range pts {
		p = binary.LittleEndian.AppendUint32(p, uint32(int32(math.Round(pt[0]*1e7))))
		p = binary.LittleEndian.AppendUint32(p, uint32(int32(math.Round(pt[1]*1e7))))
	}
	return p
}

// decoder reads a payload, keeping the first error; reads after an error
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errors.New("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) f64() float64 {
	if v := d.take(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)) {
		d.err = errors.New("bad string length")
		return ""
	}
	d.b = d.b[k:]
	return string(d.take(int(n)))
}

// count reads a count of items of size bytes each and checks that they
// fit in what is left.
func (d *decoder) count(size int) int {
	n := int(d.u32())
	if d.err == nil && n*size > len(d.b) {
		d.err = fmt.Errorf("count %d exceeds the file", n)
		return 0
	}
	return n
}

func (d *decoder) points() []orb.Point {
	n := d.count(8)
	if n == 0 {
		return nil
	}
	pts := make([]orb.Point, n)
	raw := d.take(8 * n)
	for i := range pts {
		lon := int32(binary.LittleEndian.Uint32(raw[8*i:]))
		lat := int32(binary.LittleEndian.Uint32(raw[8*i+4:]))
		pts[i] = orb.Point{float64(lon) / 1e7, float64(lat) / 1e7}
		if !geo.ValidPoint(pts[i]) {
			d.err = fmt.Errorf("point %v out of range", pts[i])
			return nil
		}
	}
	return pts
}

func (d *decoder) graph() *Graph {
	g := &Graph{Name: d.str(), Mode: d.str()}
	if nb := d.count(1); nb > 0 {
		g.Bands = make(map[string]Band, nb)
		for range nb {
			name, b := d.str(), Band{Factor: d.f64()}
			for range d.count(2) {
				h := d.take(2)
				b.Hours = append(b.Hours, [2]int{int(h[0]), int(h[1])})
			}
			g.Bands[name] = b
		}
	}
	st := &g.Stats
	for _, v := range []*int{&st.Ways, &st.Nodes, &st.Edges, &st.Components, &st.DroppedNodes, &st.DroppedEdges} {
		*v = int(d.u32())
	}
	st.KeptKm, st.DroppedKm = d.f64(), d.f64()
	g.nodes = d.points()
	g.edges = d.edges(len(g.nodes))
	g.shape = d.points()
	if d.err == nil && len(g.edges) > 0 && int(g.edges[len(g.edges)-1].shape1) != len(g.shape) {
		d.err = errors.New("edge shapes do not match the shape points")
	}
	if d.err != nil {
		return nil
	}
	g.finish()
	return g
}

func (d *decoder) edges(nodes int) []roadEdge {
	n := d.count(24)
	if n == 0 {
		return nil
	}
	es := make([]roadEdge, n)
	raw := d.take(24 * n)
	s := int32(0)
	for i := range es {
		r := raw[24*i:]
		k := int32(binary.LittleEndian.Uint32(r[8:]))
		es[i] = roadEdge{
			from: int32(binary.LittleEndian.Uint32(r)), to: int32(binary.LittleEndian.Uint32(r[4:])),
			shape0: s, shape1: s + k,
			length: math.Float32frombits(binary.LittleEndian.Uint32(r[12:])),
			fwdKPH: math.Float32frombits(binary.LittleEndian.Uint32(r[16:])),
			bwdKPH: math.Float32frombits(binary.LittleEndian.Uint32(r[20:])),
		}
		s += k
		if e := es[i]; e.from < 0 || int(e.from) >= nodes || e.to < 0 || int(e.to) >= nodes || k < 2 {
			d.err = fmt.Errorf("edge %d: bad nodes or shape", i)
			return nil
		}
	}
	return es
}
