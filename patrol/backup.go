package patrol

// BackupUnits is how many available units must reach a cell within 3
// minutes (Tier3) for the cell to have backup: a second unit that can join
// the first one there.
const BackupUnits = 2

// Backed reports whether at least BackupUnits available units reach the
// cell within 3 minutes.
func (c CellCover) Backed() bool { return c.N[Tier3] >= BackupUnits }

// backed reports whether at least BackupUnits available units reach grid
// cell i within 3 minutes.
func (cv *Coverage) backed(i int32) bool { return cv.count(i, Tier3) >= BackupUnits }

// backup returns how many of the zone's cells lack backup: cells beyond
// the grid count as lacking it, since no unit reaches them.
func (cv *Coverage) backup(z zoneCells) (lacking int) {
	lacking = z.outside
	for _, c := range z.cells {
		if !cv.backed(c) {
			lacking++
		}
	}
	return lacking
}
