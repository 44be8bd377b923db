package evalguard

import (
	"context"
	"net/url"
)

// ProjectsService manages projects (/api/v1/projects).
type ProjectsService struct{ c *Client }

// ProjectParams create a project; an empty Name takes the ID.
type ProjectParams struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Create makes a project (role admin); a taken id is a 409 *Error.
func (s *ProjectsService) Create(ctx context.Context, params ProjectParams) (*Project, error) {
	var p Project
	if err := s.c.Do(ctx, &RawRequest{Method: "POST", Path: "/api/v1/projects", Body: params}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Get reads a project.
func (s *ProjectsService) Get(ctx context.Context, id string) (*Project, error) {
	var p Project
	if err := s.c.Do(ctx, &RawRequest{Method: "GET", Path: "/api/v1/projects/" + url.PathEscape(id)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// List walks every project the key can see.
func (s *ProjectsService) List(ctx context.Context, opts ...ListOption) *Iter[Project] {
	return newIter[Project](ctx, s.c, "/api/v1/projects", nil, opts)
}
