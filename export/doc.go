// Package export is the connected side's job: given targets that package
// source resolved, it converts each image and platform into a Concourse
// rootfs tgz in the staging cache (so an interrupted or repeated export
// reuses finished work), and writes one signed bundle of them. It reports
// progress through an event callback and never prints.
package export
