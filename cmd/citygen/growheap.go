package main

// growItem is a unit's offer for a cell at a cost in metres.
type growItem struct {
	cost       float64
	unit, cell int32
}

// less orders items by cost, then unit, then cell.
func (a growItem) less(b growItem) bool {
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if a.unit != b.unit {
		return a.unit < b.unit
	}
	return a.cell < b.cell
}

// growHeap is a binary min-heap of growItem.
type growHeap []growItem

func (h *growHeap) push(it growItem) {
	*h = append(*h, it)
	a := *h
	for i := len(a) - 1; i > 0; {
		up := (i - 1) / 2
		if !a[i].less(a[up]) {
			break
		}
		a[i], a[up] = a[up], a[i]
		i = up
	}
}

func (h *growHeap) pop() growItem {
	a := *h
	top, n := a[0], len(a)-1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		m, l := i, 2*i+1
		if l < n && a[l].less(a[m]) {
			m = l
		}
		if r := l + 1; r < n && a[r].less(a[m]) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
