package environment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"clusterapi/internal/errs"
)

// The page sizes of SPEC 4.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ListOptions are the parameters of the first page of a list. The page's
// nextPageKey carries them on to the following pages.
type ListOptions struct {
	Filter   string // in the grammar of ParseFilter; "" selects everything
	Sort     Sort   // "": DefaultSort
	PageSize int    // 1 to MaxPageSize
	// IncludeQuotas and IncludeStorage are the include flags of the wire;
	// the list does not use them but carries them from page to page.
	IncludeQuotas  bool
	IncludeStorage bool
}

// check validates o and fills in the default sort.
func (o *ListOptions) check() error {
	if o.Sort == "" {
		o.Sort = DefaultSort
	}
	if !o.Sort.Known() {
		return errs.Field(errs.Query, "sort", "must be one of name, -name, creationDate, -creationDate")
	}
	if o.PageSize < 1 || o.PageSize > MaxPageSize {
		return errs.Field(errs.Query, "pageSize", "must be between 1 and 1000")
	}
	return nil
}

// cursorVersion is the first field of every cursor, so that the format can
// change without misreading keys handed out before.
const cursorVersion = 1

// maxCursorLen bounds what is decoded: a filter at its longest plus keys.
const maxCursorLen = 2 * MaxFilterLen

// cursor is the content of a nextPageKey: the list's options and the position
// of the last environment served. It is opaque to clients but not secret, and
// it is checked like the query parameters it stands for when it comes back.
// Its JSON names are short to keep the key short; they are the format.
type cursor struct {
	Version  int    `json:"v"`
	Filter   string `json:"f,omitempty"`
	Sort     Sort   `json:"s"`
	PageSize int    `json:"n"`
	Quotas   bool   `json:"q,omitempty"`
	Storage  bool   `json:"t,omitempty"`
	Name     string `json:"kn,omitempty"` // Key.Name
	Created  int64  `json:"kc"`           // Key.Created, Unix milliseconds
	ID       string `json:"ki"`           // Key.ID
}

// encodeCursor returns the nextPageKey that resumes the list o after k:
// base64url (no padding) of the cursor's JSON.
func encodeCursor(o ListOptions, k Key) string {
	b, err := json.Marshal(cursor{
		Version: cursorVersion, Filter: o.Filter, Sort: o.Sort, PageSize: o.PageSize,
		Quotas: o.IncludeQuotas, Storage: o.IncludeStorage,
		Name: k.Name, Created: k.Created.UnixMilli(), ID: k.ID,
	})
	if err != nil {
		panic("environment: encode cursor: " + err.Error()) // strings, ints and bools always marshal
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = errs.Field(errs.Query, "nextPageKey",
	"is not a valid page key: use the nextPageKey of a previous response as it is")

// decodeCursor parses a nextPageKey. Anything that is not a key this server
// handed out (or one that decodes to values the query parameters would
// reject) is an error naming nextPageKey.
func decodeCursor(s string) (ListOptions, Key, error) {
	if s == "" || len(s) > maxCursorLen {
		return ListOptions{}, Key{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return ListOptions{}, Key{}, errBadCursor
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() {
		return ListOptions{}, Key{}, errBadCursor
	}
	o := ListOptions{
		Filter: c.Filter, Sort: c.Sort, PageSize: c.PageSize,
		IncludeQuotas: c.Quotas, IncludeStorage: c.Storage,
	}
	if c.Version != cursorVersion || c.Sort == "" || o.check() != nil || !ValidID(c.ID) {
		return ListOptions{}, Key{}, errBadCursor
	}
	if _, err := ParseFilter(c.Filter); err != nil {
		return ListOptions{}, Key{}, errBadCursor
	}
	return o, Key{Name: c.Name, Created: time.UnixMilli(c.Created).UTC(), ID: c.ID}, nil
}
