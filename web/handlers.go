package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Body limits.
const (
	maxBatchBytes = 4 << 20
)

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	if !s.city.Ready() {
		fail(c, http.StatusServiceUnavailable, "not_ready", "live state is still loading")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second)
	defer cancel()
	if err := s.city.StoreHealth(ctx); err != nil {
		s.cfg.Logger.Warn("readyz", "err", err)
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "the live store does not answer")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) plan(c *gin.Context) {
	switch f := c.DefaultQuery("format", "json"); f {
	case "json":
		c.JSON(http.StatusOK, s.city.Plan())
	case "geojson":
		c.Header("Content-Type", "application/geo+json")
		c.JSON(http.StatusOK, s.city.Plan().GeoJSON())
	default:
		fail(c, http.StatusBadRequest, "bad_format", fmt.Sprintf("format %q: want json or geojson", f))
	}
}

func (s *Server) config(c *gin.Context) {
	travel := "lattice"
	if s.cfg.Roads != nil {
		travel = "road"
	}
	c.JSON(http.StatusOK, gin.H{"tiles": s.cfg.Tiles, "resolution": s.city.Resolution(), "travel": travel})
}

// roadsGeoJSON answers the road network travel times run on, for the
// map's base layer, or 404 on lattice travel times.
func (s *Server) roadsGeoJSON(c *gin.Context) {
	if s.cfg.Roads == nil {
		fail(c, http.StatusNotFound, "no_roads", "travel times use the H3 lattice: serve with --osm for a road network")
		return
	}
	body, err := s.roads.geoJSON(s.cfg.Roads, s.city.Plan().Boundary.Bound())
	if err != nil {
		s.cfg.Logger.Error("roads layer", "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the road layer could not be built")
		return
	}
	c.Data(http.StatusOK, "application/geo+json", body)
}

func (s *Server) units(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"units": s.city.Units()}) }

func (s *Server) gaps(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"time": time.Now().UTC(), "zones": s.city.Zones()})
}

func (s *Server) coverage(c *gin.Context) {
	cells := s.city.Coverage()
	switch f := c.DefaultQuery("format", "json"); f {
	case "json":
		c.JSON(http.StatusOK, gin.H{"resolution": s.city.Resolution(), "cells": cells})
	case "geojson":
		fc := geojson.NewFeatureCollection()
		for _, v := range cells {
			ft := geojson.NewFeature(geo.CellPolygon(v.Cell))
			ft.ID = v.Cell.String()
			ft.Properties = geojson.Properties{"cell": v.Cell.String(), "eta_s": v.ETAS, "n1": v.N1, "n3": v.N3, "n5": v.N5}
			fc.Append(ft)
		}
		c.Header("Content-Type", "application/geo+json")
		c.JSON(http.StatusOK, fc)
	default:
		fail(c, http.StatusBadRequest, "bad_format", fmt.Sprintf("format %q: want json or geojson", f))
	}
}

func (s *Server) live(c *gin.Context) {
	conn, err := s.upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered
	}
	client, err := s.city.Subscribe()
	if err != nil {
		s.cfg.Logger.Error("live subscribe", "err", err)
		conn.Close()
		return
	}
	_ = s.hub.Serve(c.Request.Context(), conn, client)
}

// fixResult is the answer for one fix of a batch.
type fixResult struct {
	Index   int         `json:"index"`
	Status  fix.Outcome `json:"status"`
	Code    string      `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
}

func (s *Server) fixes(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBatchBytes))
	if err != nil {
		fail(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", maxBatchBytes))
		return
	}
	fixes, err := fix.DecodeBatch(body)
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	for i := range fixes {
		fixes[i].Source = fix.SourceJSON
	}
	results, err := s.city.Ingest(c.Request.Context(), fixes)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	out := struct {
		Accepted int         `json:"accepted"`
		Stored   int         `json:"stored"`
		Rejected int         `json:"rejected"`
		Results  []fixResult `json:"results"`
	}{Results: make([]fixResult, len(results))}
	for i, r := range results {
		out.Results[i] = fixResult{Index: i, Status: r.Outcome}
		switch r.Outcome {
		case fix.Accepted:
			out.Accepted++
		case fix.Stored:
			out.Stored++
		case fix.Rejected:
			out.Rejected++
		}
		if r.Err != nil {
			out.Results[i].Code, out.Results[i].Message = fix.Code(r.Err), r.Err.Error()
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) setStatus(c *gin.Context) {
	var body struct {
		Status patrol.Status `json:"status"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4096)).Decode(&body); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "body must be {\"status\": \"available|dispatched|on_scene|off_duty\"}")
		return
	}
	switch err := s.city.SetStatus(c.Request.Context(), c.Param("id"), body.Status, by(c)); {
	case errors.Is(err, fix.ErrUnknownUnit):
		fail(c, http.StatusNotFound, "unknown_unit", err.Error())
	case err != nil && !body.Status.Valid():
		fail(c, http.StatusBadRequest, "bad_status", err.Error())
	case err != nil:
		s.storeFailed(c, err)
	default:
		s.audit(c, "unit.status", c.Param("id"), string(body.Status))
		c.Status(http.StatusNoContent)
	}
}

// Road layer limits: edges are simplified to within roadTolerance
// degrees (about 2 m) and at most maxRoadEdges of them are served, those
// within roadMargin degrees (about 500 m) of the plan's boundary.
const (
	roadTolerance = 0.00002
	roadMargin    = 0.005
	maxRoadEdges  = 50000
)

// roadLayer builds the road GeoJSON once, on first request.
type roadLayer struct {
	once sync.Once
	body []byte
	err  error
}

// geoJSON returns a FeatureCollection with one LineString per edge of g
// near bound (lon, lat), simplified, coordinates to 6 decimals; the
// collection's "truncated" member tells when edges were left out.
func (l *roadLayer) geoJSON(g *road.Graph, bound orb.Bound) ([]byte, error) {
	l.once.Do(func() {
		area := bound.Pad(roadMargin)
		fc := geojson.NewFeatureCollection()
		_, edges := g.Len()
		for e := range int32(edges) {
			shape := g.EdgeShape(e)
			if !shape.Bound().Intersects(area) {
				continue
			}
			if len(fc.Features) == maxRoadEdges {
				fc.ExtraMembers = geojson.Properties{"truncated": true}
				break
			}
			fc.Append(geojson.NewFeature(roundLine(simplify.DouglasPeucker(roadTolerance).LineString(shape.Clone()))))
		}
		l.body, l.err = fc.MarshalJSON()
	})
	return l.body, l.err
}

// roundLine rounds ls's coordinates to 6 decimals (0.1 m) in place.
func roundLine(ls orb.LineString) orb.LineString {
	for i, p := range ls {
		ls[i] = orb.Point{math.Round(p[0]*1e6) / 1e6, math.Round(p[1]*1e6) / 1e6}
	}
	return ls
}
