// "koa2" is an npm alias of koa@2 for running the tests on Koa 2; it ships no
// types of its own, and its API is the one @types/koa describes.
declare module "koa2" {
  import Koa from "koa";
  export default Koa;
}
