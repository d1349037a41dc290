package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
)

// The device admin API, under /api/v1/devices with an admin token:
//
//	POST   devices      {"id","unit","protocol","key"} adds an OsmAnd or
//	                    NMEA device, {"id","unit","protocol":"jt808",
//	                    "phone","terminal"} a JT/T 808 terminal; 201 with
//	                    the device and its key, shown this once (a
//	                    terminal has none: it draws a code when it
//	                    registers)
//	GET    devices      every device, revoked ones too (?unit= narrows)
//	GET    devices/:id  one device
//	DELETE devices/:id  revokes it at once; 200 with the device

// deviceSpec is the body of POST devices.
type deviceSpec struct {
	ID       string `json:"id"`
	Unit     string `json:"unit"`
	Protocol string `json:"protocol"` // osmand, nmea or jt808; empty is jt808 with a phone, osmand without
	Phone    string `json:"phone"`
	Terminal string `json:"terminal"`
	Key      string `json:"key"` // a key the tracker was provisioned with; empty draws one
}

// minProvisionedKey is the shortest key an admin may give a device (one
// drawn by the registry has 32 hex digits).
const minProvisionedKey = 16

func (s *Server) addDevice(c *gin.Context) {
	var body deviceSpec
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", `body must be {"id": "...", "unit": "...", "protocol": "osmand", "key": "..."} `+
			`(key optional) or {"id": "...", "unit": "...", "protocol": "jt808", "phone": "...", "terminal": "..."}`)
		return
	}
	if body.Key != "" && len(body.Key) < minProvisionedKey {
		fail(c, http.StatusBadRequest, "bad_device", fmt.Sprintf("a key given for a device needs at least %d characters", minProvisionedKey))
		return
	}
	if _, ok := s.city.Plan().Unit(body.Unit); !ok {
		fail(c, http.StatusBadRequest, "unknown_unit", "no unit "+quote(body.Unit)+" in the plan")
		return
	}
	d, key, err := s.cfg.Devices.Add(c.Request.Context(), device.Spec{ID: body.ID, Unit: body.Unit, Protocol: body.Protocol,
		Phone: body.Phone, Terminal: body.Terminal, Key: body.Key})
	if err != nil {
		s.deviceFailed(c, err)
		return
	}
	s.audit(c, "device.add", d.ID, d.Protocol+" for "+d.Unit)
	c.Header("Location", "/api/v1/devices/"+d.ID)
	if key == "" {
		c.JSON(http.StatusCreated, gin.H{"device": d})
		return
	}
	c.JSON(http.StatusCreated, gin.H{"device": d, "key": key})
}

func (s *Server) listDevices(c *gin.Context) {
	all, err := s.cfg.Devices.List(c.Request.Context())
	if err != nil {
		s.deviceFailed(c, err)
		return
	}
	out := all[:0]
	for _, d := range all {
		if u := c.Query("unit"); u == "" || d.Unit == u {
			out = append(out, d)
		}
	}
	c.JSON(http.StatusOK, gin.H{"devices": out})
}

func (s *Server) getDevice(c *gin.Context) {
	d, ok := s.cfg.Devices.Device(c.Param("id"))
	if !ok {
		fail(c, http.StatusNotFound, "unknown_device", "no device "+quote(c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, gin.H{"device": d})
}

func (s *Server) revokeDevice(c *gin.Context) {
	d, err := s.cfg.Devices.Revoke(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.deviceFailed(c, err)
		return
	}
	s.audit(c, "device.revoke", d.ID, "")
	c.JSON(http.StatusOK, gin.H{"device": d})
}

// deviceFailed answers a registry error: its code, or the store's 503.
func (s *Server) deviceFailed(c *gin.Context, err error) {
	code := device.Code(err)
	switch code {
	case "bad_device":
		fail(c, http.StatusBadRequest, code, err.Error())
		return
	case "device_exists":
		fail(c, http.StatusConflict, code, "a device with this id is registered and active; revoke it first")
		return
	case "phone_taken":
		fail(c, http.StatusConflict, code, "another active device has this terminal phone")
		return
	case "unknown_device":
		fail(c, http.StatusNotFound, code, "no device "+quote(c.Param("id")))
		return
	}
	if errors.Is(err, device.ErrRefused) {
		answer(c, osmand.Refusal(err))
		return
	}
	s.storeFailed(c, err)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
