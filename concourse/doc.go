// Package concourse renders what a Concourse pipeline needs to run tasks
// on imported images: an s3 image_resource per image, with the regexp the
// S3 resource uses to find its versions.
package concourse
