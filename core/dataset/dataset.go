// Package dataset lists images in the MVTec AD folder layout:
// <category>/train/good/*, <category>/test/<good|defect>/*, and
// <category>/ground_truth/<defect>/<stem>_mask.png.
package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sample is one test image.
type Sample struct {
	Path  string
	Kind  string // "good" or the defect type
	Mask  string // ground-truth mask path, "" for good images or a missing mask
	Label bool   // true when anomalous
}

var imageExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true}

// Images lists the image files directly inside dir, sorted.
func Images(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && imageExt[strings.ToLower(filepath.Ext(e.Name()))] {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// TrainImages returns the good training images of dir: dir/train/good
// when dir is an MVTec category, else the images in dir itself.
func TrainImages(dir string) ([]string, error) {
	sub := filepath.Join(dir, "train", "good")
	if st, err := os.Stat(sub); err == nil && st.IsDir() {
		dir = sub
	}
	imgs, err := Images(dir)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("dataset: no images (PNG, JPEG, BMP, TIFF or WebP) in %s", dir)
	}
	return imgs, nil
}

// Test lists a category's test images with their labels and masks.
func Test(category string) ([]Sample, error) {
	root := filepath.Join(category, "test")
	kinds, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s is not an MVTec category: %w", category, err)
	}
	var out []Sample
	for _, k := range kinds {
		if !k.IsDir() {
			continue
		}
		imgs, err := Images(filepath.Join(root, k.Name()))
		if err != nil {
			return nil, err
		}
		for _, p := range imgs {
			s := Sample{Path: p, Kind: k.Name(), Label: k.Name() != "good"}
			if s.Label {
				stem := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
				// The mask is a PNG as in MVTec, or in the image's own format.
				for _, ext := range []string{".png", filepath.Ext(p)} {
					m := filepath.Join(category, "ground_truth", k.Name(), stem+"_mask"+ext)
					if _, err := os.Stat(m); err == nil {
						s.Mask = m
						break
					}
				}
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dataset: no test images under %s", root)
	}
	return out, nil
}
