package evalguard

import (
	"context"
	"net/url"
)

// KeysService manages the organization's API keys (/api/v1/keys; role admin,
// with a key not restricted to a project).
type KeysService struct{ c *Client }

// KeyParams create a key; an empty ProjectID gives the whole organization.
type KeyParams struct {
	Role      Role   `json:"role"`
	ProjectID string `json:"project_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Create makes a key; its secret (Key) is shown this once.
func (s *KeysService) Create(ctx context.Context, params KeyParams) (*APIKeyCreated, error) {
	var k APIKeyCreated
	if err := s.c.Do(ctx, &RawRequest{Method: "POST", Path: "/api/v1/keys", Body: params}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// List answers every key of the organization, without secrets.
func (s *KeysService) List(ctx context.Context) ([]APIKey, error) {
	var p page[APIKey]
	if err := s.c.Do(ctx, &RawRequest{Method: "GET", Path: "/api/v1/keys"}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// Revoke revokes a key by its public id; a revoked key is answered unchanged.
func (s *KeysService) Revoke(ctx context.Context, keyID string) (*APIKey, error) {
	var k APIKey
	if err := s.c.Do(ctx, &RawRequest{Method: "DELETE", Path: "/api/v1/keys/" + url.PathEscape(keyID)}, &k); err != nil {
		return nil, err
	}
	return &k, nil
}
